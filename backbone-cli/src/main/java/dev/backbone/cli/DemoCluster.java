package dev.backbone.cli;

import dev.backbone.config.BackboneConfig;
import dev.backbone.examples.load.LoadGenerator;
import dev.backbone.examples.load.LoadReport;
import dev.backbone.examples.load.LoadSpec;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.examples.profiles.StoreKind;
import dev.backbone.kafka.embedded.EmbeddedKafkaBroker;
import dev.backbone.server.BackboneNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The whole demo in one process: an embedded broker under {@code <data-dir>/kafka}, N nodes on
 * racks {@code rack-a, rack-b, ...} each with its state under {@code <data-dir>/node-<i>}, and the
 * load generator. Everything lives under the data directory, so a second run on the same directory
 * resumes: the broker keeps its topics and offsets, the nodes their state.
 *
 * <p>Once every node answers a read of every key ({@link EveryKeyServed}), it prints {@value
 * #READY_LINE} once. The load generator starts only after the topics accept writes ({@link
 * CustomerProfilePipeline#createTopics}) and ends at its first lost event ({@link #loadRun()}).
 */
final class DemoCluster implements AutoCloseable {
  static final String APP_ID = "customer-profiles-demo";

  /** Printed once, when every node serves every key. */
  static final String READY_LINE = "ready: every node serves every key";

  private static final Duration READY_POLL = Duration.ofMillis(250);

  /** What the demo runs. {@code httpPort} 0 gives every node a free port (tests). */
  record Settings(
      int nodes,
      int racks,
      double rate,
      int customers,
      Path dataDir,
      int httpPort,
      int partitions,
      String guarantee,
      long seed,
      double badRatio,
      StoreKind store) {}

  private final Settings settings;
  private final EmbeddedKafkaBroker broker;
  private final Admin admin;
  private final CustomerProfilePipeline pipeline;
  private final List<BackboneNode> nodes = new ArrayList<>();
  private final LoadGenerator load = new LoadGenerator();
  private final ExecutorService loadThread =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "demo-load"));
  private final ScheduledExecutorService readyThread =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "demo-ready"));
  private final DemoStatus status;
  private final CompletableFuture<LoadReport> loadRun = new CompletableFuture<>();

  private DemoCluster(Settings settings, EmbeddedKafkaBroker broker) {
    this.settings = settings;
    this.broker = broker;
    Properties adminProps = new Properties();
    adminProps.put("bootstrap.servers", broker.bootstrapServers());
    this.admin = Admin.create(adminProps);
    this.pipeline =
        new CustomerProfilePipeline(
            new PipelineSettings(
                APP_ID,
                "customer-events",
                "customer-events-dlq",
                settings.partitions(),
                (short) 1,
                settings.guarantee(),
                settings.store()));
    this.status = new DemoStatus(admin, pipeline, nodes, load);
  }

  /** Starts the broker, creates the topics, starts every node and the load generator. */
  static DemoCluster start(Settings settings, PrintWriter out) throws Exception {
    Files.createDirectories(settings.dataDir());
    EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder().dataDir(settings.dataDir().resolve("kafka")).port(0).build();
    broker.start();
    DemoCluster demo = new DemoCluster(settings, broker);
    try {
      demo.startNodesAndLoad(out);
      return demo;
    } catch (Exception | Error e) {
      demo.close();
      throw e;
    }
  }

  private void startNodesAndLoad(PrintWriter out) throws Exception {
    pipeline.createTopics(admin);
    Properties shared = new Properties();
    shared.put(
        BackboneConfig.CLUSTER_SECRET_CONFIG, ClusterSecret.loadOrCreate(settings.dataDir()));
    for (int i = 0; i < settings.nodes(); i++) {
      String rack = "rack-" + (char) ('a' + (i % settings.racks()));
      int port = settings.httpPort() == 0 ? 0 : settings.httpPort() + i;
      BackboneNode node =
          ProfileNodes.build(
              pipeline,
              new ProfileNodes.NodeSpec(
                  "node-" + i,
                  rack,
                  broker.bootstrapServers(),
                  "127.0.0.1",
                  port,
                  settings.dataDir().resolve("node-" + i),
                  settings.nodes() > 1 ? 1 : 0,
                  1),
              shared);
      nodes.add(node);
      node.start();
      out.printf(
          "node-%d  rack=%s  http://127.0.0.1:%d/v1/stores/%s/keys/c-0%n",
          i, rack, node.httpPort(), CustomerProfilePipeline.PROFILE_STORE);
    }
    out.printf(
        "kafka   %s   (data in %s)%n",
        broker.bootstrapServers(), settings.dataDir().toAbsolutePath());
    loadThread.execute(
        () -> {
          try {
            loadRun.complete(runLoad());
          } catch (RuntimeException | Error e) {
            loadRun.completeExceptionally(e);
          }
        });
    announceReadiness(out);
  }

  /**
   * Polls every node until it serves every key, then prints {@value #READY_LINE}. Its own thread:
   * the status lines go on meanwhile, and a cluster that never gets there simply never says so.
   */
  private void announceReadiness(PrintWriter out) {
    EveryKeyServed check =
        new EveryKeyServed(
            CustomerProfilePipeline.PROFILE_STORE,
            nodes.stream().map(BackboneNode::httpPort).toList(),
            EveryKeyServed.customerIdPerPartition(settings.partitions()));
    readyThread.scheduleWithFixedDelay(
        () -> {
          if (check.holds()) {
            out.println(READY_LINE);
            readyThread.shutdown();
          }
        },
        0,
        READY_POLL.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private LoadReport runLoad() {
    Map<String, Object> props =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            broker.bootstrapServers(),
            ProducerConfig.LINGER_MS_CONFIG,
            5,
            ProducerConfig.ACKS_CONFIG,
            "all");
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      LoadSpec spec =
          new LoadSpec(
              pipeline.settings().inputTopic(),
              settings.rate(),
              settings.customers(),
              0.8,
              Long.MAX_VALUE,
              null,
              settings.seed(),
              settings.badRatio());
      return load.run(spec, producer, progress -> {});
    }
  }

  /**
   * The load generator's run: it completes only when the demo stops it, or exceptionally (with
   * {@link dev.backbone.examples.load.UndeliveredEventsException}) once Kafka failed an event.
   */
  CompletableFuture<LoadReport> loadRun() {
    return loadRun;
  }

  /** The nodes, in order (node-0 first). */
  List<BackboneNode> nodes() {
    return List.copyOf(nodes);
  }

  /** The embedded broker's address. */
  String bootstrapServers() {
    return broker.bootstrapServers();
  }

  /** A one-line summary of what the cluster is doing right now. */
  String statusLine() {
    return status.line();
  }

  /** Stops the load, then the nodes (last first), then the broker. Safe to call twice. */
  @Override
  public void close() {
    readyThread.shutdownNow();
    load.stop();
    loadThread.shutdown();
    try {
      if (!loadThread.awaitTermination(30, TimeUnit.SECONDS)) {
        loadThread.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).close();
    }
    admin.close(Duration.ofSeconds(5));
    broker.close();
  }
}
