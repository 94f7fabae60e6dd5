package dev.backbone.bench.store;

import dev.backbone.bench.BenchReport;
import java.io.PrintStream;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code backbone bench store}: runs {@link StoreBenchmark} with JMH in one run for both stores and
 * reports ops/s per operation and the Backbone/stock ratio.
 */
public final class StoreBench {
  private StoreBench() {}

  /** Runs the benchmark and prints the table, then the JSON line. */
  public static Map<String, Double> run(int iterations, int seconds, int forks, PrintStream out)
      throws RunnerException {
    Options options =
        new OptionsBuilder()
            .include(StoreBenchmark.class.getName())
            .forks(forks)
            .warmupIterations(Math.max(1, iterations - 1))
            .warmupTime(TimeValue.seconds(seconds))
            .measurementIterations(iterations)
            .measurementTime(TimeValue.seconds(seconds))
            .shouldFailOnError(true)
            .build();
    Collection<RunResult> results = new Runner(options).run();
    Map<String, Map<String, Double>> byOp = new TreeMap<>();
    for (RunResult r : results) {
      String op = r.getParams().getBenchmark();
      op = op.substring(op.lastIndexOf('.') + 1);
      byOp.computeIfAbsent(op, k -> new TreeMap<>())
          .put(r.getParams().getParam("store"), r.getPrimaryResult().getScore());
    }
    BenchReport report =
        new BenchReport(
            "store",
            "Kafka Streams' built-in RocksDB store (Stores.persistentKeyValueStore), same JVM and"
                + " run; ratio = backbone ops/s / stock ops/s");
    Map<String, Double> ratios = new LinkedHashMap<>();
    byOp.forEach(
        (op, scores) -> {
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("operation", op);
          row.put("stock_ops_per_sec", scores.get("stock"));
          row.put("backbone_ops_per_sec", scores.get("backbone"));
          double ratio = scores.get("backbone") / scores.get("stock");
          row.put("ratio", ratio);
          ratios.put(op, ratio);
          report.row(row);
          report.summary("ratio_" + op, ratio);
        });
    report.summary("keys", StoreBenchmark.KEYS);
    report.summary("commit_every", StoreBenchmark.COMMIT_EVERY);
    report.summary("forks", forks);
    report.print(out);
    return ratios;
  }
}
