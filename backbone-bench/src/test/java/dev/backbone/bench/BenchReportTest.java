package dev.backbone.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchReportTest {

  @Test
  void printsATableAndEndsWithOneJsonLineNamingTheBench() throws Exception {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("guarantee", "exactly_once_v2");
    row.put("events_per_sec", 12345.6);
    BenchReport report = new BenchReport("throughput", "stock Kafka Streams").row(row);
    report.summary("ratio", 1.02);

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    report.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");

    assertThat(lines[0]).startsWith("guarantee").contains("events_per_sec");
    assertThat(lines[2]).contains("exactly_once_v2").contains("12346");
    JsonNode json = new ObjectMapper().readTree(lines[lines.length - 1]);
    assertThat(json.get("bench").asText()).isEqualTo("throughput");
    assertThat(json.get("ratio").asDouble()).isEqualTo(1.02);
    assertThat(json.get("results").get(0).get("guarantee").asText()).isEqualTo("exactly_once_v2");
  }

  @Test
  void tableColumnsCoverKeysThatOnlyLaterRowsHave() {
    BenchReport report =
        new BenchReport("x", "none").row(Map.of("a", 1)).row(new LinkedHashMap<>(Map.of("b", 2)));

    assertThat(report.table().lines().findFirst().orElseThrow()).contains("a").contains("b");
  }
}
