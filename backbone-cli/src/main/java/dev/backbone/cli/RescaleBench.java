package dev.backbone.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.config.BackboneConfig;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.examples.profiles.StoreKind;
import dev.backbone.kafka.embedded.EmbeddedKafkaBroker;
import dev.backbone.rescale.Drain;
import dev.backbone.rescale.RescalePlan;
import dev.backbone.rescale.RescalePlan.Step;
import dev.backbone.server.BackboneNode;
import dev.backbone.server.KeyedStateStage;
import dev.backbone.server.Rescaler;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * {@code backbone bench rescale}: a two-node profile application under exactly-once holding {@code
 * --state-mb} of state, built from an input history of {@code --history-factor} times that many
 * bytes, rescaled from {@code --from} to {@code --to} tasks with {@link Rescaler}; then, in the
 * same run on the same input, what a stock user does instead: reset and reprocess the whole history
 * into a new application with {@code --to} tasks (stock Kafka Streams RocksDB store).
 *
 * <p>Each customer gets {@value #EVENTS_PER_CUSTOMER} view events whose skus are 60 characters
 * long, so its profile (the last ten skus) is about 800 bytes; the customer count follows from the
 * state size. Each event also carries a note the pipeline ignores (as real events carry fields a
 * profile does not keep), sized so that the history is {@code --history-factor} times the state's
 * bytes: a history of that size in fewer, larger events, which the benchmark's own build of the
 * state (and the baseline) can replay on this machine at 1 GB of state. The pause is the time
 * ingest was stopped: from the start of {@code INGEST_PAUSED} to the end of {@code RESUMED};
 * queries answer throughout. After both, a sample of customers is read from the rescaled and from
 * the reprocessed application and must be the same profile with every event counted once.
 */
final class RescaleBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PROFILE_BYTES = 800;
  private static final int EVENTS_PER_CUSTOMER = 12;
  private static final int EVENT_BASE_BYTES = 150;
  private static final int SAMPLE = 500;
  private static final long NEAR_END = 20_000;
  private static final String SECRET = "rescale-bench-cluster-secret";

  record Spec(
      int stateMb, int from, int to, int historyFactor, int loadRate, Path dir, Duration timeout) {}

  private RescaleBench() {}

  static void run(Spec spec, PrintStream out) throws Exception {
    Path dir =
        spec.dir() != null ? spec.dir() : Files.createTempDirectory("backbone-bench-rescale");
    long customers = Math.max(1, spec.stateMb() * 1024L * 1024 / PROFILE_BYTES);
    int events = EVENTS_PER_CUSTOMER;
    int noteBytes =
        Math.max(0, spec.historyFactor() * PROFILE_BYTES / EVENTS_PER_CUSTOMER - EVENT_BASE_BYTES);
    out.printf(
        Locale.ROOT,
        "rescale bench: %d customers x %d events (%d MB state, %dx history), %d -> %d tasks, in %s%n",
        customers,
        events,
        spec.stateMb(),
        spec.historyFactor(),
        spec.from(),
        spec.to(),
        dir);
    try (EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder().dataDir(dir.resolve("kafka")).port(0).build()) {
      broker.start();
      Properties adminProps = new Properties();
      adminProps.put("bootstrap.servers", broker.bootstrapServers());
      try (Admin admin = Admin.create(adminProps)) {
        PipelineSettings rescaled =
            new PipelineSettings(
                "rescale-bench",
                "rescale-bench-events",
                "rescale-bench-dlq",
                spec.from(),
                (short) 1,
                StreamsConfig.EXACTLY_ONCE_V2,
                StoreKind.BACKBONE);
        CustomerProfilePipeline pipeline = new CustomerProfilePipeline(rescaled);
        pipeline.createTopics(admin);
        long produceStart = System.nanoTime();
        long inputBytes =
            produce(broker.bootstrapServers(), rescaled.inputTopic(), customers, events, noteBytes);
        double produceSeconds = (System.nanoTime() - produceStart) / 1e9;
        out.printf(
            Locale.ROOT,
            "produced %d events (%.1f MB) in %.1f s%n",
            customers * events,
            inputBytes / 1e6,
            produceSeconds);

        List<BackboneNode> nodes = startNodes(pipeline, broker, dir.resolve("rescaled"));
        Map<String, Object> row = new LinkedHashMap<>();
        try {
          double buildSeconds =
              awaitProcessed(admin, broker, pipeline, 0, rescaled.inputTopic(), spec.timeout());
          out.printf(
              Locale.ROOT, "built the state (processed the history) in %.1f s%n", buildSeconds);
          Map<String, Object> client = Map.of("bootstrap.servers", broker.bootstrapServers());
          long[] pause = new long[2];
          RescalePlan plan;
          Rescaler.Stats stats;
          int[] extra;
          long start = System.nanoTime();
          try (Rescaler rescaler =
              new Rescaler(
                  new Rescaler.Settings(
                      URI.create("http://127.0.0.1:" + nodes.get(0).httpPort()),
                      SECRET,
                      null,
                      client,
                      "state",
                      (short) 1,
                      spec.timeout(),
                      pipeline.stateApplicationId()),
                  new Rescaler.Listener() {
                    @Override
                    public void stepStarted(Step step, String what) {
                      if (step == Step.INGEST_PAUSED) {
                        pause[0] = System.nanoTime();
                      }
                      out.printf(Locale.ROOT, "  %-13s %s%n", step, what);
                    }

                    @Override
                    public void stepDone(Step step, String note) {
                      if (step == Step.RESUMED) {
                        pause[1] = System.nanoTime();
                      }
                    }
                  })) {
            try (LiveLoad live =
                LiveLoad.start(
                    broker.bootstrapServers(),
                    rescaled.inputTopic(),
                    customers,
                    events,
                    noteBytes,
                    spec.loadRate())) {
              plan = rescaler.start(spec.to());
              stats = rescaler.stats();
              extra = live.stop();
            }
          }
          double totalSeconds = (System.nanoTime() - start) / 1e9;
          double pauseSeconds = (pause[1] - pause[0]) / 1e9;
          awaitProcessed(admin, broker, pipeline, 1, rescaled.inputTopic(), spec.timeout());
          Map<String, JsonNode> rescaledSample = sample(nodes.get(1), customers);
          for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
          }
          nodes.clear();

          // The stock way: reset and reprocess the whole history into --to tasks.
          PipelineSettings reset =
              new PipelineSettings(
                  "rescale-bench-reset",
                  rescaled.inputTopic(),
                  "rescale-bench-reset-dlq",
                  spec.to(),
                  (short) 1,
                  StreamsConfig.EXACTLY_ONCE_V2,
                  StoreKind.STOCK);
          CustomerProfilePipeline resetPipeline = new CustomerProfilePipeline(reset);
          resetPipeline.createTopics(admin);
          long baselineStart = System.nanoTime();
          nodes.addAll(startNodes(resetPipeline, broker, dir.resolve("reset")));
          awaitProcessed(admin, broker, resetPipeline, 0, reset.inputTopic(), spec.timeout());
          double baselineSeconds = (System.nanoTime() - baselineStart) / 1e9;
          Map<String, JsonNode> resetSample = sample(nodes.get(0), customers);
          long mismatches =
              rescaledSample.entrySet().stream()
                  .filter(
                      e ->
                          !e.getValue().equals(resetSample.get(e.getKey()))
                              || e.getValue().path("counts").path("view").asInt()
                                  != events + extra[customerIndex(e.getKey())])
                  .count();

          double stateGb = stats.bytesBuilt() / 1e9;
          row.put("state_mb", spec.stateMb());
          row.put("customers", customers);
          row.put("events", customers * events);
          row.put("from", spec.from());
          row.put("to", spec.to());
          row.put("step", plan.step().name());
          row.put("pause_seconds", round(pauseSeconds));
          row.put("total_seconds", round(totalSeconds));
          row.put("baseline_seconds", round(baselineSeconds));
          row.put("speedup", round(baselineSeconds / totalSeconds));
          row.put("bytes_copied", stats.bytesCopied());
          row.put("bytes_built", stats.bytesBuilt());
          row.put("keys", stats.keys());
          row.put("delta_records", stats.deltaRecords());
          row.put("load_rate", spec.loadRate());
          row.put("events_during_rescale", java.util.Arrays.stream(extra).asLongStream().sum());
          row.put("pause_seconds_per_gb", stateGb > 0 ? round(pauseSeconds / stateGb) : null);
          row.put("build_seconds", round(buildSeconds));
          row.put("sampled", rescaledSample.size());
          row.put("mismatches", mismatches);
          Map<String, Long> steps = new LinkedHashMap<>();
          stats.stepMillis().forEach((s, ms) -> steps.put(s.name(), ms));
          row.put("step_millis", steps);
        } finally {
          for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
          }
        }
        out.println();
        out.printf(
            Locale.ROOT,
            "| state | tasks | pause s | pause s/GB | total s | reset+reprocess s | speedup | copied | built | delta records | mismatches |%n");
        out.printf(Locale.ROOT, "|---|---|---|---|---|---|---|---|---|---|---|%n");
        out.printf(
            Locale.ROOT,
            "| %s | %d -> %d | %s | %s | %s | %s | %sx | %s | %s | %s | %s of %s |%n",
            RescaleCommand.ProgressPrinter.bytes((Long) row.get("bytes_built")),
            spec.from(),
            spec.to(),
            row.get("pause_seconds"),
            row.get("pause_seconds_per_gb"),
            row.get("total_seconds"),
            row.get("baseline_seconds"),
            row.get("speedup"),
            RescaleCommand.ProgressPrinter.bytes((Long) row.get("bytes_copied")),
            RescaleCommand.ProgressPrinter.bytes((Long) row.get("bytes_built")),
            row.get("delta_records"),
            row.get("mismatches"),
            row.get("sampled"));
        out.println("step durations (ms): " + row.get("step_millis"));
        out.println(JSON.writeValueAsString(row));
      }
    }
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static List<BackboneNode> startNodes(
      CustomerProfilePipeline pipeline, EmbeddedKafkaBroker broker, Path dir) {
    List<BackboneNode> nodes = new ArrayList<>();
    Properties shared = new Properties();
    shared.put(BackboneConfig.CLUSTER_SECRET_CONFIG, SECRET);
    for (int i = 0; i < 2; i++) {
      BackboneNode node =
          ProfileNodes.build(
              pipeline,
              new ProfileNodes.NodeSpec(
                  "node-" + i,
                  "rack-" + (char) ('a' + i),
                  broker.bootstrapServers(),
                  "127.0.0.1",
                  0,
                  dir.resolve("node-" + i),
                  1,
                  1),
              shared);
      nodes.add(node);
      node.start();
    }
    return nodes;
  }

  /** Seconds until the ingest stage committed the whole input and the state stage its input. */
  private static double awaitProcessed(
      Admin admin,
      EmbeddedKafkaBroker broker,
      CustomerProfilePipeline pipeline,
      int generation,
      String input,
      Duration timeout)
      throws Exception {
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    String keyed = KeyedStateStage.inputTopic(pipeline.stateApplicationId(), generation);
    String stateGroup = KeyedStateStage.applicationId(pipeline.stateApplicationId(), generation);
    while (System.nanoTime() < deadline) {
      // Drain reads every unprocessed record to tell markers from records: only worth it once the
      // committed offsets are near the end (a history of gigabytes is minutes of work before).
      if (lag(admin, pipeline.ingestApplicationId(), input) > NEAR_END
          || lag(admin, stateGroup, keyed) > NEAR_END) {
        Thread.sleep(1_000);
        continue;
      }
      Drain.State ingest =
          Drain.check(
              admin,
              broker.bootstrapServers(),
              pipeline.ingestApplicationId(),
              input,
              Duration.ofSeconds(30));
      if (ingest.drained()) {
        Drain.State state =
            Drain.check(
                admin, broker.bootstrapServers(), stateGroup, keyed, Duration.ofSeconds(30));
        if (state.drained()) {
          return (System.nanoTime() - start) / 1e9;
        }
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("the pipeline did not process its input within " + timeout);
  }

  /** Offsets between a group's committed position and the end, summed over the topic. */
  private static long lag(Admin admin, String group, String topic) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin
            .listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS);
    int partitions =
        admin
            .describeTopics(List.of(topic))
            .allTopicNames()
            .get(30, TimeUnit.SECONDS)
            .get(topic)
            .partitions()
            .size();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    long lag = 0;
    for (var e : admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet()) {
      OffsetAndMetadata at = committed.get(e.getKey());
      lag += e.getValue().offset() - (at == null ? 0 : at.offset());
    }
    return lag;
  }

  /**
   * Produces the history: every customer's i-th event in round i (round-robin over customers).
   * Fails at once if Kafka refuses any event: a history with holes would make the sample check
   * meaningless.
   */
  private static long produce(
      String bootstrap, String topic, long customers, int events, int noteBytes) {
    Map<String, Object> props =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ProducerConfig.LINGER_MS_CONFIG,
            20,
            ProducerConfig.BATCH_SIZE_CONFIG,
            256 * 1024,
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.COMPRESSION_TYPE_CONFIG,
            "lz4");
    Random random = new Random(42);
    String note = "n".repeat(noteBytes);
    AtomicReference<Exception> failed = new AtomicReference<>();
    AtomicLong lost = new AtomicLong();
    long bytes = 0;
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      for (int e = 0; e < events && failed.get() == null; e++) {
        for (long c = 0; c < customers && failed.get() == null; c++) {
          String id = "c-" + c;
          String value = event(id, e, random, note);
          bytes += value.length() + id.length();
          producer.send(
              new ProducerRecord<>(topic, id, value),
              (metadata, error) -> {
                if (error != null) {
                  lost.incrementAndGet();
                  failed.compareAndSet(null, error);
                }
              });
        }
      }
      producer.flush();
    }
    if (failed.get() != null) {
      throw new IllegalStateException(
          "Kafka refused " + lost.get() + " events of the history: " + failed.get(), failed.get());
    }
    return bytes;
  }

  private static int customerIndex(String id) {
    return Integer.parseInt(id.substring("c-".length()));
  }

  /** The JSON of one view event of the bench's history or live load. */
  private static String event(String id, int round, Random random, String note) {
    StringBuilder sku = new StringBuilder("sku-").append(round).append('-');
    while (sku.length() < 60) {
      sku.append((char) ('a' + random.nextInt(26)));
    }
    return "{\"customerId\":\""
        + id
        + "\",\"type\":\"view\",\"ts\":1732500000000,\"sku\":\""
        + sku
        + "\",\"amount\":0,\"note\":\""
        + note
        + "\"}";
  }

  /**
   * Events written while the rescale runs, at a fixed rate, round-robin over the customers, so that
   * the pause has last records to carry over; counts each customer's events. Stopping fails if
   * Kafka refused any.
   */
  private static final class LiveLoad implements AutoCloseable {
    private final KafkaProducer<String, String> producer;
    private final int[] counts;
    private final AtomicReference<Exception> failed = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean running = true;

    private LiveLoad(
        String bootstrap, String topic, long customers, int rounds, int noteBytes, int rate) {
      this.producer =
          new KafkaProducer<>(
              Map.of(
                  ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  bootstrap,
                  ProducerConfig.ACKS_CONFIG,
                  "all",
                  ProducerConfig.LINGER_MS_CONFIG,
                  5),
              new StringSerializer(),
              new StringSerializer());
      this.counts = new int[(int) customers];
      String note = "n".repeat(noteBytes);
      this.thread =
          new Thread(
              () -> {
                Random random = new Random(43);
                long startNanos = System.nanoTime();
                long sent = 0;
                while (running && rate > 0 && failed.get() == null) {
                  long due = (System.nanoTime() - startNanos) * rate / 1_000_000_000L;
                  for (; sent < due && running; sent++) {
                    int c = (int) (sent % customers);
                    String id = "c-" + c;
                    counts[c]++;
                    producer.send(
                        new ProducerRecord<>(
                            topic, id, event(id, rounds + counts[c], random, note)),
                        (metadata, error) -> {
                          if (error != null) {
                            failed.compareAndSet(null, error);
                          }
                        });
                  }
                  try {
                    Thread.sleep(5);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "rescale-bench-live-load");
    }

    static LiveLoad start(
        String bootstrap, String topic, long customers, int rounds, int noteBytes, int rate) {
      LiveLoad load = new LiveLoad(bootstrap, topic, customers, rounds, noteBytes, rate);
      load.thread.start();
      return load;
    }

    /** Stops the load once every event is acknowledged; each customer's count of events. */
    int[] stop() throws InterruptedException {
      running = false;
      thread.join();
      producer.flush();
      if (failed.get() != null) {
        throw new IllegalStateException(
            "Kafka refused an event written during the rescale: " + failed.get(), failed.get());
      }
      return counts.clone();
    }

    @Override
    public void close() {
      running = false;
      producer.close();
    }
  }

  /** A spread sample of customers' profiles read through a node. */
  private static Map<String, JsonNode> sample(BackboneNode node, long customers) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    Map<String, JsonNode> out = new LinkedHashMap<>();
    long step = Math.max(1, customers / SAMPLE);
    for (long c = 0; c < customers && out.size() < SAMPLE; c += step) {
      String id = "c-" + c;
      HttpRequest request =
          HttpRequest.newBuilder(
                  URI.create(
                      "http://127.0.0.1:"
                          + node.httpPort()
                          + "/v1/stores/"
                          + CustomerProfilePipeline.PROFILE_STORE
                          + "/keys/"
                          + id))
              .build();
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      for (int retry = 0; r.statusCode() == 503 && retry < 100; retry++) {
        Thread.sleep(100); // a rebalance; the answer says to retry
        r = http.send(request, HttpResponse.BodyHandlers.ofString());
      }
      out.put(id, r.statusCode() == 200 ? JSON.readTree(r.body()).path("value") : JSON.nullNode());
    }
    return out;
  }
}
