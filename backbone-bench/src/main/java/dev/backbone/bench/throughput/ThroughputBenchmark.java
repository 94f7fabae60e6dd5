package dev.backbone.bench.throughput;

import dev.backbone.bench.BenchReport;
import dev.backbone.examples.load.LoadGenerator;
import dev.backbone.examples.load.LoadReport;
import dev.backbone.examples.load.LoadSpec;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.examples.profiles.StoreKind;
import dev.backbone.kafka.embedded.EmbeddedKafkaBroker;
import dev.backbone.server.internals.StageProperties;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * End-to-end events per second of the customer-profile pipeline on one node, per processing
 * guarantee. Each run gets its own topics: the input is preloaded with a fixed number of events
 * (deterministic seed), then both stages start and the clock runs from the moment both are RUNNING
 * until the state stage's consumer has consumed every valid event. Start-up and rebalance time is
 * reported separately and kept out of the rate. Each guarantee runs once per store kind (stock
 * first, then Backbone), in the same JVM against the same broker, and the report gives the
 * Backbone/stock ratio per guarantee.
 *
 * <p>The preload starts only once every partition of the fresh input topic accepts writes, and a
 * preload that loses any event fails the bench at once; the processing phase waits for the valid
 * events the brokers acknowledged, never for more.
 */
public final class ThroughputBenchmark {
  /** What to run. */
  public record Spec(
      long events,
      int customers,
      int partitions,
      List<String> guarantees,
      List<StoreKind> stores,
      Duration timeout) {}

  /** One measured run. */
  public record Result(
      String guarantee, String store, long events, long startupMillis, long millis) {
    /** Events per second over the processing phase. */
    public double eventsPerSecond() {
      return events * 1000.0 / Math.max(1, millis);
    }
  }

  private ThroughputBenchmark() {}

  /** Runs every guarantee of the spec against one embedded broker and prints the report. */
  public static List<Result> run(Spec spec, PrintStream out) throws Exception {
    Path dir = Files.createTempDirectory("backbone-bench-throughput");
    try (EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder().dataDir(dir.resolve("kafka")).build()) {
      broker.start();
      List<Result> results = new java.util.ArrayList<>();
      for (String guarantee : spec.guarantees()) {
        for (StoreKind store : spec.stores()) {
          results.add(runOne(spec, guarantee, store, broker.bootstrapServers(), dir, out));
        }
      }
      report(spec, results).print(out);
      return results;
    } finally {
      deleteRecursively(dir);
    }
  }

  static BenchReport report(Spec spec, List<Result> results) {
    BenchReport report =
        new BenchReport(
            "throughput",
            "Kafka Streams' built-in RocksDB store (store=stock) in the same run;"
                + " ratio_<guarantee> = backbone events/s / stock events/s");
    for (Result r : results) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("guarantee", r.guarantee());
      row.put("store", r.store());
      row.put("events", r.events());
      row.put("startup_ms", r.startupMillis());
      row.put("process_ms", r.millis());
      row.put("events_per_sec", r.eventsPerSecond());
      report.row(row);
    }
    for (String guarantee : spec.guarantees()) {
      ratio(results, guarantee).ifPresent(r -> report.summary("ratio_" + guarantee, r));
    }
    report.summary("events", spec.events());
    report.summary("partitions", spec.partitions());
    return report;
  }

  /** Backbone events/s over stock events/s for one guarantee, if both ran. */
  static java.util.Optional<Double> ratio(List<Result> results, String guarantee) {
    java.util.Optional<Result> stock = find(results, guarantee, StoreKind.STOCK);
    java.util.Optional<Result> backbone = find(results, guarantee, StoreKind.BACKBONE);
    if (stock.isEmpty() || backbone.isEmpty()) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(backbone.get().eventsPerSecond() / stock.get().eventsPerSecond());
  }

  private static java.util.Optional<Result> find(
      List<Result> results, String guarantee, StoreKind store) {
    return results.stream()
        .filter(r -> r.guarantee().equals(guarantee) && r.store().equals(store.cliName()))
        .findFirst();
  }

  private static Result runOne(
      Spec spec, String guarantee, StoreKind store, String bootstrap, Path dir, PrintStream out) {
    String appId =
        "bench-" + guarantee.replace('_', '-') + "-" + store.cliName() + "-" + System.nanoTime();
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(
            new PipelineSettings(
                appId,
                appId + "-input",
                appId + "-dlq",
                spec.partitions(),
                (short) 1,
                guarantee,
                store));
    Properties adminProps = new Properties();
    adminProps.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(adminProps)) {
      // Returns once every partition accepts writes: a preload into a partition its leader has not
      // applied yet can lose events (KAFKA-15591), and the bench would wait for them in vain.
      pipeline.createTopics(admin);
    }
    out.printf("%s/%s: preloading %d events ...%n", guarantee, store.cliName(), spec.events());
    // Throws, ending the bench at once, if Kafka failed any event of the preload.
    LoadReport loaded = preload(spec, bootstrap, pipeline.settings().inputTopic());
    // Wait only for what the brokers acknowledged: never for an event that was not delivered.
    long valid = loaded.acknowledgedValid();

    Properties base = new Properties();
    base.put("bootstrap.servers", bootstrap);
    base.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve(appId).toString());
    KafkaStreams ingest =
        new KafkaStreams(
            pipeline.ingestTopology(new SimpleMeterRegistry()), pipeline.ingestProperties(base));
    // The state stage as a node runs it: a node serves its store, so under exactly-once it runs
    // without the record cache (only committed state may be read).
    Properties stateSettings = pipeline.stateProperties(base);
    StageProperties.withoutRecordCacheUnderExactlyOnce(stateSettings);
    KafkaStreams state = new KafkaStreams(pipeline.stateTopology(), stateSettings);
    try {
      long t0 = System.nanoTime();
      ingest.start();
      state.start();
      long deadline = t0 + spec.timeout().toNanos();
      awaitCondition(
          () ->
              ingest.state() == KafkaStreams.State.RUNNING
                  && state.state() == KafkaStreams.State.RUNNING,
          deadline,
          guarantee + ": stages did not reach RUNNING");
      long t1 = System.nanoTime();
      awaitCondition(
          () -> recordsConsumed(state) >= valid,
          deadline,
          guarantee + ": state stage did not consume all " + valid + " valid events");
      long t2 = System.nanoTime();
      Result result =
          new Result(
              guarantee,
              store.cliName(),
              loaded.acknowledged(),
              TimeUnit.NANOSECONDS.toMillis(t1 - t0),
              TimeUnit.NANOSECONDS.toMillis(t2 - t1));
      out.printf("%s/%s: %.0f events/s%n", guarantee, store.cliName(), result.eventsPerSecond());
      return result;
    } finally {
      ingest.close(Duration.ofSeconds(30));
      state.close(Duration.ofSeconds(30));
    }
  }

  private static LoadReport preload(Spec spec, String bootstrap, String topic) {
    Map<String, Object> props =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ProducerConfig.LINGER_MS_CONFIG,
            20,
            ProducerConfig.BATCH_SIZE_CONFIG,
            256 * 1024,
            ProducerConfig.ACKS_CONFIG,
            "all");
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      LoadSpec load = new LoadSpec(topic, 0, spec.customers(), 0.8, spec.events(), null, 42L, 0.01);
      return new LoadGenerator().run(load, producer, p -> {});
    }
  }

  /** Records the stage's main consumers returned to processing (restore consumers excluded). */
  static long recordsConsumed(KafkaStreams streams) {
    long total = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
      MetricName name = e.getKey();
      String clientId = name.tags().getOrDefault("client-id", "");
      if (name.group().equals("consumer-fetch-manager-metrics")
          && name.name().equals("records-consumed-total")
          && !name.tags().containsKey("topic")
          && clientId.endsWith("-consumer")
          && !clientId.endsWith("restore-consumer")) {
        total += ((Number) e.getValue().metricValue()).longValue();
      }
    }
    return total;
  }

  private static void awaitCondition(
      java.util.function.BooleanSupplier condition, long deadlineNanos, String failure) {
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadlineNanos) {
        throw new IllegalStateException(failure + " within the timeout");
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while benchmarking", e);
      }
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
