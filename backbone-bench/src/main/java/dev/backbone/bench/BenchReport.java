package dev.backbone.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The output convention of every {@code backbone bench}: a table for people, then, as the very last
 * line, one JSON object for machines starting with {@code "bench"}. Rows are ordered maps so that
 * the table columns and JSON fields keep the order they were added in.
 */
public final class BenchReport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String bench;
  private final String baseline;
  private final List<Map<String, Object>> rows = new ArrayList<>();
  private final Map<String, Object> summary = new LinkedHashMap<>();

  /**
   * @param bench the benchmark's name, e.g. {@code throughput}
   * @param baseline what the figures are compared against, in words
   */
  public BenchReport(String bench, String baseline) {
    this.bench = bench;
    this.baseline = baseline;
  }

  /** Adds one table row (and one entry of the JSON {@code results} array). */
  public BenchReport row(Map<String, Object> row) {
    rows.add(new LinkedHashMap<>(row));
    return this;
  }

  /** Adds a top-level figure of the JSON line, e.g. a ratio. */
  public BenchReport summary(String key, Object value) {
    summary.put(key, value);
    return this;
  }

  /** Prints the table, the summary lines, then the JSON line last. */
  public void print(PrintStream out) {
    out.println(table());
    summary.forEach((k, v) -> out.println(k + ": " + format(v)));
    out.println("baseline: " + baseline);
    out.println(json());
  }

  /** The human-readable table. */
  public String table() {
    if (rows.isEmpty()) {
      return "(no results)";
    }
    List<String> columns = new ArrayList<>(rows.get(0).keySet());
    rows.forEach(r -> r.keySet().stream().filter(k -> !columns.contains(k)).forEach(columns::add));
    int[] widths = new int[columns.size()];
    for (int c = 0; c < columns.size(); c++) {
      widths[c] = columns.get(c).length();
      for (Map<String, Object> r : rows) {
        widths[c] = Math.max(widths[c], format(r.get(columns.get(c))).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    appendLine(sb, columns, widths);
    List<String> rule = new ArrayList<>();
    for (int w : widths) {
      rule.add("-".repeat(w));
    }
    appendLine(sb, rule, widths);
    for (Map<String, Object> r : rows) {
      List<String> cells = new ArrayList<>();
      columns.forEach(col -> cells.add(format(r.get(col))));
      appendLine(sb, cells, widths);
    }
    return sb.toString().stripTrailing();
  }

  /**
   * The machine-readable line: {@code {"bench":..., "baseline":..., <summary>, "results":[...]}}.
   */
  public String json() {
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("bench", bench);
    all.putAll(summary);
    all.put("baseline", baseline);
    all.put("results", rows);
    try {
      return JSON.writeValueAsString(all);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("bench results are not serializable: " + e.getMessage(), e);
    }
  }

  private static void appendLine(StringBuilder sb, List<String> cells, int[] widths) {
    for (int c = 0; c < cells.size(); c++) {
      String cell = cells.get(c);
      sb.append(c == 0 ? "" : "  ")
          .append(cell)
          .append(" ".repeat(Math.max(0, widths[c] - cell.length())));
    }
    sb.append('\n');
  }

  private static String format(Object v) {
    if (v == null) {
      return "";
    }
    if (v instanceof Double d) {
      return Math.abs(d) >= 100 ? String.format("%.0f", d) : String.format("%.3f", d);
    }
    return v.toString();
  }
}
