package dev.backbone.bench.bootstrap;

import dev.backbone.assignment.RackAwareTaskAssignor;
import dev.backbone.bench.BenchReport;
import dev.backbone.bootstrap.internals.Directories;
import dev.backbone.config.BackboneConfig;
import dev.backbone.kafka.embedded.EmbeddedKafkaBroker;
import dev.backbone.server.BackboneNode;
import dev.backbone.server.QueryableStore;
import dev.backbone.server.StreamsStage;
import dev.backbone.server.internals.NodeMetrics;
import dev.backbone.store.BackboneStores;
import dev.backbone.topics.WritableTopics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.LagInfo;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.Stores;

/**
 * {@code backbone bench bootstrap}: how long it takes to rebuild one replica of a task that holds
 * {@code --state-mb} of state, three ways, in one run against one embedded broker:
 *
 * <ol>
 *   <li><b>Backbone peer bootstrap</b>: node A holds the task's active; node B joins with an empty
 *       disk and gets the task's standby, which copies A's snapshot over HTTP, installs it and
 *       replays the changelog after the snapshot's offset. Timed from the moment B's store asked
 *       for a bootstrap (its first {@code init()}) to the moment its changelog lag is zero.
 *   <li><b>Stock changelog restore</b>: A and B closed, a stock Kafka Streams instance with Kafka
 *       Streams' own RocksDB store and an empty disk takes the task and restores its whole
 *       changelog, timed by Kafka Streams' {@code StateRestoreListener} (restore start to end).
 *   <li><b>Raw copy</b>: {@code cp -r} of A's store directory and {@code sync}, the physical limit
 *       of moving the same bytes on this machine.
 * </ol>
 *
 * <p>The state is built the way users build it: {@code --updates-per-key} passes over every key
 * through a Kafka Streams app (a processor that puts each record into its store, at-least-once), so
 * the changelog holds what Kafka Streams wrote, at the topic configs Kafka Streams gives a
 * changelog (compacted, broker defaults otherwise). Keys are 16 bytes, values 100 random bytes.
 *
 * <p>The rebuilds start once node A's RocksDB has finished the load's compactions (its store
 * directory unchanged for 15 s): a snapshot holds RocksDB's live files, which right after a bulk
 * load can be twice the compacted size, and the raw copy must move the same files.
 *
 * <p>A second task (input partition 1) gets a probe record every 10 ms while a replica is rebuilt;
 * the receiving instance processes it on the same stream thread, and the highest probe latency
 * (produce to process) is the stall the rebuild cost the thread's other tasks. Only probes sent
 * after the instance processed its first one count (see {@link ProbeRecorder}).
 *
 * <p>Every rebuilt replica is checked: the digest of its keys and values (count and a sum of
 * per-entry hashes) must equal the one the load generator computed from the last value of every
 * key. A wrong or incomplete replica fails the bench rather than report a figure.
 */
public final class BootstrapBench {
  static final String STORE = "state";
  static final int KEY_BYTES = 16;
  static final int VALUE_BYTES = 100;
  private static final String SECRET = "bench-bootstrap-cluster-secret";
  private static final Duration POLL = Duration.ofMillis(10);
  private static final Duration SETTLED = Duration.ofSeconds(15);

  /** What to run. */
  public record Spec(int stateMb, int updatesPerKey, Path dir, Duration timeout) {
    /** Distinct keys: the state divided by the bytes of one entry. */
    public long keys() {
      return Math.max(1, (long) stateMb * 1024 * 1024 / (KEY_BYTES + VALUE_BYTES));
    }
  }

  /** The figures of one run. */
  record Result(
      long keys,
      int updatesPerKey,
      long inputRecords,
      long changelogOffsets,
      long stateBytes,
      double buildSeconds,
      double settleSeconds,
      double restoreSeconds,
      long restoredRecords,
      ProbeRecorder.Stats restoreProbe,
      double bootstrapSeconds,
      double bootstrapCopySeconds,
      long tailRecords,
      ProbeRecorder.Stats steadyProbe,
      boolean probeOnReceivingThread,
      ProbeRecorder.Stats bootstrapProbe,
      double copySeconds) {
    double speedup() {
      return restoreSeconds / bootstrapSeconds;
    }
  }

  private BootstrapBench() {}

  /** Runs the three rebuilds and prints the report (the JSON line last). */
  public static void run(Spec spec, PrintStream out) throws Exception {
    Path root = spec.dir() != null ? spec.dir() : Files.createTempDirectory("backbone-bootstrap");
    Files.createDirectories(root);
    try (EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder().dataDir(root.resolve("kafka")).build()) {
      broker.start();
      Result result = new Run(spec, root, broker.bootstrapServers(), out).execute();
      report(result).print(out);
    } finally {
      deleteRecursively(root);
    }
  }

  static BenchReport report(Result r) {
    BenchReport report =
        new BenchReport(
            "bootstrap",
            "stock Kafka Streams restoring the same changelog into its own RocksDB store, and cp -r"
                + " + sync of the same files, in the same run");
    report.row(
        row(
            "stock changelog restore",
            r.restoreSeconds(),
            r.restoredRecords(),
            r.stateBytes(),
            r.restoreProbe()));
    report.row(
        row(
            "backbone peer bootstrap",
            r.bootstrapSeconds(),
            r.tailRecords(),
            r.stateBytes(),
            r.bootstrapProbe()));
    report.row(row("raw copy (cp -r + sync)", r.copySeconds(), 0, r.stateBytes(), null));
    report.row(row("(probe, nothing rebuilt)", Double.NaN, 0, 0, r.steadyProbe()));
    report.summary("restore_seconds", round(r.restoreSeconds()));
    report.summary("bootstrap_seconds", round(r.bootstrapSeconds()));
    report.summary("copy_seconds", round(r.copySeconds()));
    report.summary("speedup", round(r.speedup()));
    report.summary("bootstrap_over_copy", round(r.bootstrapSeconds() / r.copySeconds()));
    report.summary("bootstrap_installed_after_seconds", round(r.bootstrapCopySeconds()));
    report.summary("state_bytes", r.stateBytes());
    report.summary("keys", r.keys());
    report.summary("updates_per_key", r.updatesPerKey());
    report.summary("input_records", r.inputRecords());
    report.summary("changelog_offsets", r.changelogOffsets());
    report.summary("build_seconds", round(r.buildSeconds()));
    report.summary("settle_seconds", round(r.settleSeconds()));
    report.summary("probe_on_receiving_thread", r.probeOnReceivingThread());
    report.summary("probe_max_ms_steady", r.steadyProbe().maxMillis());
    report.summary("probe_max_ms_during_bootstrap", r.bootstrapProbe().maxMillis());
    report.summary("probe_max_ms_during_restore", r.restoreProbe().maxMillis());
    return report;
  }

  private static Map<String, Object> row(
      String method, double seconds, long replayed, long bytes, ProbeRecorder.Stats probe) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("method", method);
    row.put("seconds", Double.isNaN(seconds) ? "-" : round(seconds));
    row.put("changelog_records_replayed", replayed);
    row.put("mb_per_sec", Double.isNaN(seconds) ? "-" : round(bytes / 1e6 / seconds));
    row.put("probe_p99_ms", probe == null ? "-" : probe.p99Millis());
    row.put("probe_max_ms", probe == null ? "-" : probe.maxMillis());
    return row;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** One run: its broker, directories, topics and the three rebuilds. */
  private static final class Run {
    private final Spec spec;
    private final Path root;
    private final String bootstrap;
    private final PrintStream out;
    private final String appId = "bench-bootstrap-" + System.currentTimeMillis();
    private final String input = appId + "-input";
    private final TopicPartition changelog =
        new TopicPartition(appId + "-" + STORE + "-changelog", 0);
    private final long deadline;

    Run(Spec spec, Path root, String bootstrap, PrintStream out) {
      this.spec = spec;
      this.root = root;
      this.bootstrap = bootstrap;
      this.out = out;
      this.deadline = System.nanoTime() + spec.timeout().toNanos();
    }

    Result execute() throws Exception {
      try (Admin admin =
          Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        new WritableTopics(admin).create(List.of(new NewTopic(input, 2, (short) 1)));
        long keys = spec.keys();
        long records = keys * spec.updatesPerKey();

        // 1. Build the state on node A.
        ProbeRecorder probeA = new ProbeRecorder();
        BackboneNode nodeA = node("node-a", "rack-a", probeA);
        BackboneNode nodeB = null;
        try {
          nodeA.start();
          await(nodeA::isReady, "node A did not start");
          out.printf(
              "building %,d keys x %d updates (%,d records) through node A ...%n",
              keys, spec.updatesPerKey(), records);
          long t0 = System.nanoTime();
          LoadGenerator.Produced produced =
              LoadGenerator.produce(bootstrap, input, keys, spec.updatesPerKey(), out);
          awaitCommitted(admin, produced.records());
          double buildSeconds = seconds(System.nanoTime() - t0);
          long changelogOffsets = changelogOffsets(admin);
          out.printf(
              "built in %.1f s (%,.0f records/s); changelog offsets %,d%n",
              buildSeconds, records / buildSeconds, changelogOffsets);

          // A replica is rebuilt in steady state, not in the middle of the load's compactions: a
          // snapshot holds RocksDB's live files, which right after a bulk load can be twice the
          // compacted size, and the raw copy below must move the same files.
          double settleSeconds = awaitCompactionsSettled(storeDirectory(root.resolve("node-a")));

          // The probe's latency with nothing being rebuilt, for comparison.
          ProbeRecorder.Stats steady = steadyProbe(probeA);
          out.printf(
              "probe latency on node A with nothing rebuilt: p99 %d ms, max %d ms%n",
              steady.p99Millis(), steady.maxMillis());

          // 2. Backbone: node B joins with an empty disk; its standby copies A's snapshot.
          ProbeRecorder probeB = new ProbeRecorder();
          nodeB = node("node-b", "rack-b", probeB);
          Bootstrapped boot;
          try (ProbeProducer probes = new ProbeProducer(bootstrap, input, 1)) {
            nodeB.start();
            boot = awaitBootstrapped(nodeB, admin);
            probes.stop();
          }
          out.printf(
              "peer bootstrap: %.2f s (copy + install %.2f s), tail %,d records%n",
              boot.seconds(), boot.copySeconds(), boot.tail());
          boolean probeHere = hostsActive(nodeB.streams("state"), new TaskId(0, 1));
          nodeB.close();
          nodeA.close();

          // 2. The physical limit: copy A's store files (closed now: a live RocksDB compacts
          // files away under cp).
          Path storeA = storeDirectory(root.resolve("node-a"));
          long stateBytes = sizeOf(storeA);
          double copySeconds = rawCopy(storeA, root.resolve("raw-copy"));
          out.printf("raw copy of %,d bytes: %.2f s%n", stateBytes, copySeconds);
          checkDigest("node A's active", storeA, produced.digest());
          checkDigest(
              "node B's bootstrapped standby",
              storeDirectory(root.resolve("node-b")),
              produced.digest());

          // 3. Stock: one instance, Kafka Streams' own store, an empty disk, the whole changelog.
          Restored stock = stockRestore();
          checkDigest(
              "the stock restore", storeDirectory(root.resolve("stock")), produced.digest());
          out.printf("stock restore: %.2f s, %,d records%n", stock.seconds(), stock.records());
          return new Result(
              keys,
              spec.updatesPerKey(),
              produced.records(),
              changelogOffsets,
              stateBytes,
              buildSeconds,
              settleSeconds,
              stock.seconds(),
              stock.records(),
              stock.probe(),
              boot.seconds(),
              boot.copySeconds(),
              boot.tail(),
              steady,
              probeHere,
              probeB.stats(),
              copySeconds);
        } finally {
          if (nodeB != null) {
            nodeB.close();
          }
          nodeA.close();
        }
      }
    }

    private BackboneNode node(String nodeId, String rack, ProbeRecorder probe) {
      Properties props = new Properties();
      props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(StreamsConfig.STATE_DIR_CONFIG, root.resolve(nodeId).toString());
      props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, 1);
      props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
      props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
      props.put(StreamsConfig.TASK_ASSIGNOR_CLASS_CONFIG, RackAwareTaskAssignor.class.getName());
      props.put(CommonClientConfigs.CLIENT_RACK_CONFIG, rack);
      props.put(BackboneConfig.NODE_ID_CONFIG, nodeId);
      props.put(BackboneConfig.HTTP_HOST_CONFIG, "127.0.0.1");
      props.put(BackboneConfig.HTTP_PORT_CONFIG, 0);
      props.put(BackboneConfig.CLUSTER_SECRET_CONFIG, SECRET);
      // The bench measures the copy: every empty replica bootstraps, whatever the changelog size.
      props.put(BackboneConfig.BOOTSTRAP_MIN_LAG_RECORDS_CONFIG, 1);
      Properties stage = new Properties();
      stage.putAll(props);
      stage.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
      stage.put(StreamsConfig.CLIENT_ID_CONFIG, nodeId);
      stage.putAll(BackboneStores.streamsSettings());
      return BackboneNode.builder()
          .properties(props)
          .meterRegistry(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))
          .stage(
              new StreamsStage(
                  "state",
                  PutTopology.build(
                      BackboneStores.persistentKeyValueStore(STORE), STORE, input, probe),
                  stage))
          .queryableStore(
              new QueryableStore<Bytes, byte[]>(
                  STORE,
                  "state",
                  k -> Bytes.wrap(k.getBytes(StandardCharsets.UTF_8)),
                  Serdes.Bytes().serializer(),
                  v -> Base64.getEncoder().encodeToString(v)))
          .build();
    }

    private ProbeRecorder.Stats steadyProbe(ProbeRecorder probe) throws InterruptedException {
      int before = probe.count();
      try (ProbeProducer probes = new ProbeProducer(bootstrap, input, 1)) {
        await(() -> probe.count() >= before + 300, "node A did not process probe records");
        probes.stop();
      }
      return probe.statsSince(before);
    }

    /**
     * Waits until the size of node A's store directory has not changed for {@link #SETTLED}
     * (RocksDB's compactions are done: obsolete files are deleted as each one ends).
     */
    private double awaitCompactionsSettled(Path store) throws IOException {
      long t0 = System.nanoTime();
      long size = sizeOf(store);
      long stableSince = System.nanoTime();
      out.printf("waiting for node A's compactions to settle (store %,d bytes) ...%n", size);
      while (System.nanoTime() - stableSince < SETTLED.toNanos()) {
        checkDeadline("node A's RocksDB compactions did not settle");
        sleep(Duration.ofMillis(500));
        long now = sizeOf(store);
        if (now != size) {
          size = now;
          stableSince = System.nanoTime();
        }
      }
      double waited = seconds(System.nanoTime() - t0);
      out.printf("settled after %.0f s: store %,d bytes%n", waited, size);
      return waited;
    }

    private void awaitCommitted(Admin admin, long records) {
      TopicPartition p0 = new TopicPartition(input, 0);
      long reported = System.nanoTime();
      while (true) {
        long committed = committedOffset(admin, p0);
        if (committed >= records) {
          return;
        }
        if (System.nanoTime() - reported > TimeUnit.SECONDS.toNanos(10)) {
          out.printf("  node A committed %,d of %,d records%n", committed, records);
          reported = System.nanoTime();
        }
        checkDeadline("node A did not commit all " + records + " records");
        sleep(Duration.ofMillis(500));
      }
    }

    private long committedOffset(Admin admin, TopicPartition p) {
      try {
        OffsetAndMetadata o =
            admin
                .listConsumerGroupOffsets(appId)
                .partitionsToOffsetAndMetadata()
                .get(10, TimeUnit.SECONDS)
                .get(p);
        return o == null ? 0 : o.offset();
      } catch (Exception e) {
        throw new IllegalStateException("cannot read the committed offsets of " + appId, e);
      }
    }

    private long changelogOffsets(Admin admin) throws Exception {
      return offset(admin, OffsetSpec.latest()) - offset(admin, OffsetSpec.earliest());
    }

    private long offset(Admin admin, OffsetSpec spec) throws Exception {
      return admin
          .listOffsets(Map.of(changelog, spec))
          .partitionResult(changelog)
          .get(10, TimeUnit.SECONDS)
          .offset();
    }

    /** Polls node B until its standby of task 0_0 was copied, installed and is at the end. */
    private Bootstrapped awaitBootstrapped(BackboneNode node, Admin admin) {
      PrometheusMeterRegistry registry = node.meterRegistry();
      long started = -1;
      long copied = -1;
      while (true) {
        long now = System.nanoTime();
        Gauge running = registry.find(NodeMetrics.BOOTSTRAP_RUNNING).gauge();
        FunctionCounter done = registry.find(NodeMetrics.BOOTSTRAP_COPIED).functionCounter();
        FunctionCounter fellBack = registry.find(NodeMetrics.BOOTSTRAP_FELL_BACK).functionCounter();
        if (fellBack != null && fellBack.count() > 0) {
          throw new IllegalStateException(
              "node B fell back to a changelog restore instead of a peer bootstrap; see the log");
        }
        if (started < 0 && running != null && running.value() > 0) {
          started = now;
        }
        // Installed: task 0_0's store finished an init() (its metrics exist only then). The
        // copy counter alone would also count the probe task's store, which may be copied too.
        if (copied < 0 && done != null && done.count() > 0 && storeOpened(node)) {
          copied = now;
          started = started < 0 ? now : started;
        }
        if (copied > 0) {
          LagInfo lag = lagOf(node.streams("state"));
          if (lag != null && lag.offsetLag() == 0 && lag.endOffsetPosition() > 0) {
            return new Bootstrapped(
                seconds(now - started), seconds(copied - started), restoredRecords(node));
          }
        }
        checkDeadline("node B's standby of task 0_0 did not catch up");
        sleep(POLL);
      }
    }

    private Restored stockRestore() throws InterruptedException {
      ProbeRecorder probe = new ProbeRecorder();
      StockRestoreListener listener = new StockRestoreListener(changelog);
      Properties props = new Properties();
      props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
      props.put(StreamsConfig.CLIENT_ID_CONFIG, "stock");
      props.put(StreamsConfig.STATE_DIR_CONFIG, root.resolve("stock").toString());
      props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
      props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
      KeyValueBytesStoreSupplier supplier = Stores.persistentKeyValueStore(STORE);
      KafkaStreams stock =
          new KafkaStreams(PutTopology.build(supplier, STORE, input, probe), props);
      stock.setGlobalStateRestoreListener(listener);
      try (ProbeProducer probes = new ProbeProducer(bootstrap, input, 1)) {
        stock.start();
        await(listener::ended, "the stock instance did not restore the changelog");
        probes.stop();
      } finally {
        stock.close(
            CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(60)));
      }
      return new Restored(listener.seconds(), listener.restored(), probe.stats());
    }

    private void await(BooleanSupplier condition, String failure) {
      while (!condition.getAsBoolean()) {
        checkDeadline(failure);
        sleep(POLL);
      }
    }

    private void checkDeadline(String failure) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(failure + " within --timeout " + spec.timeout());
      }
    }
  }

  private record Bootstrapped(double seconds, double copySeconds, long tail) {}

  private record Restored(double seconds, long records, ProbeRecorder.Stats probe) {}

  private static LagInfo lagOf(KafkaStreams streams) {
    Map<Integer, LagInfo> lags = streams.allLocalStorePartitionLags().get(STORE);
    return lags == null ? null : lags.get(0);
  }

  private static boolean hostsActive(KafkaStreams streams, TaskId task) {
    return streams.metadataForLocalThreads().stream()
        .flatMap(t -> t.activeTasks().stream())
        .anyMatch(t -> t.taskId().equals(task));
  }

  /** Whether the node's store of task 0_0 has opened (an init() returned and registered it). */
  private static boolean storeOpened(BackboneNode node) {
    return node.streams("state").metrics().keySet().stream()
        .anyMatch(
            n ->
                n.name().equals("backbone-restored-records-total")
                    && "0_0".equals(n.tags().get("task-id")));
  }

  /** Changelog records the node's store of task 0_0 restored since it opened (the tail). */
  private static long restoredRecords(BackboneNode node) {
    long total = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : node.streams("state").metrics().entrySet()) {
      MetricName name = e.getKey();
      if (name.name().equals("backbone-restored-records-total")
          && "0_0".equals(name.tags().get("task-id"))) {
        total += ((Number) e.getValue().metricValue()).longValue();
      }
    }
    return total;
  }

  /** The one RocksDB directory (it holds {@code CURRENT}) of task 0_0's store under a state dir. */
  static Path storeDirectory(Path stateDir) throws IOException {
    try (Stream<Path> paths = Files.walk(stateDir)) {
      List<Path> found =
          paths
              .filter(p -> p.getFileName().toString().equals("CURRENT"))
              .map(Path::getParent)
              .filter(
                  p -> p.toString().contains("/0_0/") && p.getFileName().toString().equals(STORE))
              .toList();
      if (found.size() != 1) {
        throw new IllegalStateException(
            "expected one RocksDB of task 0_0 under " + stateDir + ", found " + found);
      }
      return found.get(0);
    }
  }

  static long sizeOf(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
  }

  /** {@code sync} first (the broker's dirty pages are not the copy's), then {@code cp -r; sync}. */
  static double rawCopy(Path from, Path to) throws IOException, InterruptedException {
    shell("sync");
    long t0 = System.nanoTime();
    shell("cp -r '" + from + "' '" + to + "' && sync");
    double s = seconds(System.nanoTime() - t0);
    deleteRecursively(to);
    return s;
  }

  private static void shell(String command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sh", "-c", command).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("'" + command + "' failed with exit code " + p.exitValue());
    }
  }

  private static void checkDigest(String what, Path dir, StateDigest expected) {
    StateDigest actual = StateDigest.ofRocksDb(dir);
    if (!actual.equals(expected)) {
      throw new IllegalStateException(
          what + " holds " + actual + " but the load wrote " + expected + ": a wrong replica");
    }
  }

  static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while benchmarking", e);
    }
  }

  /** Deletes a directory of the bench, failing the bench if it cannot (disk would fill up). */
  static void deleteRecursively(Path dir) {
    Exception failure = Directories.deleteRecursively(dir);
    if (failure != null) {
      throw new IllegalStateException("cannot delete " + dir + ": " + failure, failure);
    }
  }
}
