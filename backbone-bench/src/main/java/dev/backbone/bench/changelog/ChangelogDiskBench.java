package dev.backbone.bench.changelog;

import dev.backbone.bench.BenchReport;
import dev.backbone.bootstrap.internals.Directories;
import dev.backbone.kafka.embedded.EmbeddedKafkaBroker;
import dev.backbone.retention.ChangelogRetention;
import dev.backbone.topics.WritableTopics;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code backbone bench changelog-disk}: the bytes a broker holds for a state store's changelog
 * after sustained churn, under Kafka Streams' stock changelog policy ({@code
 * cleanup.policy=compact}, kept forever) and under Backbone's bounded one ({@code compact,delete}
 * with {@code retention.ms} of one retention window and the rest of {@code
 * ChangelogRetention#topicConfigs}, notably {@code min.compaction.lag.ms} = the retention), for the
 * same write stream in the same run.
 *
 * <h2>What must hold for the figure to mean something</h2>
 *
 * <ul>
 *   <li><b>Same input, same broker.</b> Every record ({@link ChurnWorkload}) goes to both topics
 *       with the same key, value and timestamp; both have the same partition count, so the default
 *       partitioner puts a key in the same partition of each. Both have the same {@code segment.ms}
 *       (one simulated hour), {@code segment.bytes} (1 MiB, the least Kafka 4.4 allows: the
 *       validator of {@code LogConfig}'s {@code segment.bytes}), {@code min.cleanable.dirty.ratio}
 *       0.1 and {@code min.compaction.lag.ms} 0, so compaction does its best for stock too. One
 *       cleaner thread serves both.
 *   <li><b>Simulated time is record time.</b> Days are written in minutes with record timestamps
 *       ({@code message.timestamp.type=CreateTime}) from {@code hours} before the start up to the
 *       start. Kafka rolls a segment by time when a record's timestamp is more than {@code
 *       segment.ms} past the segment's first batch timestamp ({@code LogSegment#shouldRoll} and
 *       {@code #timeWaitedForRoll}, kafka-storage 4.4.0), and deletes a segment by time when the
 *       broker's wall clock is more than {@code retention.ms} past the segment's <em>largest</em>
 *       record timestamp ({@code UnifiedLog#deleteRetentionMsBreachedSegments}). Old timestamps are
 *       accepted: {@code message.timestamp.before.max.ms} defaults to {@code Long.MAX_VALUE} in 4.4
 *       ({@code ServerLogConfigs.LOG_MESSAGE_TIMESTAMP_BEFORE_MAX_MS_DEFAULT}); the topics state
 *       it.
 *   <li><b>Segments of the bounded topic die when the simulated clock says so.</b> With {@code
 *       retention.ms} fixed at the window, every record written more than a window before the start
 *       would be deleted the moment its segment rolled, before the cleaner ever merged it into a
 *       segment with younger records: the run would keep less than a real one does. So while
 *       writing, before each simulated hour the topic's {@code retention.ms} is set to the window
 *       plus how far the wall clock is ahead of the simulated clock; a segment then goes when it is
 *       a window old in simulated time: at most one simulated hour late (keeping more), and early
 *       by no more than the wall-clock seconds since the last setting. After the last write it is
 *       set to exactly the window, the policy Backbone ships, and the measurement is taken under
 *       that.
 *   <li><b>Retention of a compacted topic runs in the cleaner.</b> With the cleaner on, the
 *       retention task ({@code LogManager#cleanupLogs}, every {@code
 *       log.retention.check.interval.ms}) only takes logs the cleaner does not compact ({@code
 *       LogCleaner#pauseCleaningForNonCompactedPartitions}); a {@code compact,delete} log's old
 *       segments are deleted by the cleaner thread after each cleaning attempt ({@code
 *       LogCleaner$CleanerThread#cleanFilthiestLog}, {@code LogCleanerManager#deletableLogs}, then
 *       {@code UnifiedLog#deleteOldSegments}), and the thread sleeps {@code log.cleaner.backoff.ms}
 *       when nothing is dirty enough. So the broker gets {@code log.cleaner.backoff.ms=500}
 *       (default 15 s, {@code CleanerConfig}) and {@code log.retention.check.interval.ms} is left
 *       alone: it does not touch either topic.
 *   <li><b>Measured when settled, on the broker.</b> After the last write the bench waits until
 *       neither topic has shrunk for a while ({@link SettleDetector}), bounded by a timeout, then
 *       sums each topic's partition sizes from {@code Admin#describeLogDirs} (the segments in the
 *       log; files already scheduled for deletion are not counted). No record may be lost on the
 *       way: the topics are created writable ({@link WritableTopics}) before the first send, and a
 *       failed send stops the bench at once.
 * </ul>
 *
 * <h2>The figures</h2>
 *
 * {@code window_bytes} is what was written with timestamps inside the last retention window as of
 * the measurement (the broker's clock then, minus {@code retention.ms}; whole simulated minutes),
 * {@code state_bytes} the live keys at the end times key plus value bytes, {@code written_bytes}
 * everything written; all three count key and value bytes, while the broker's sizes also hold
 * Kafka's record and batch framing (a few percent at 500-byte values). Backbone's goal is {@code
 * backbone_bytes <= 1.2 x window_bytes} whatever the state size; stock keeps the state and grows
 * with it.
 *
 * <h2>What the compressed time does not model</h2>
 *
 * The cleaner has seconds of wall time per simulated hour instead of an hour, so while writing both
 * topics hold more uncleaned records than a real day would leave; the settle at the end lets it
 * catch up. Tombstones outlive a compaction by {@code delete.retention.ms} of wall time (24 h, both
 * topics), so none expires during a run; a real stock changelog would have dropped those older than
 * a day, a few dozen bytes each.
 */
public final class ChangelogDiskBench {
  static final String STOCK_TOPIC = "changelog-stock";
  static final String BACKBONE_TOPIC = "changelog-backbone";
  static final int KEY_BYTES = 16;
  private static final List<String> TOPICS = List.of(STOCK_TOPIC, BACKBONE_TOPIC);

  /** Backbone's goal: its changelog holds at most this many retention windows of writes. */
  static final double GOAL_RATIO_TO_WINDOW = 1.2;

  private static final int SEGMENT_BYTES = 1024 * 1024;
  private static final String MIN_CLEANABLE_DIRTY_RATIO = "0.1";
  private static final Duration POLL = Duration.ofSeconds(1);
  private static final Duration MIN_QUIET = Duration.ofSeconds(15);
  private static final double QUIET_GAP_FACTOR = 3;

  /**
   * What to run.
   *
   * @param hoursSimulated simulated hours of writes
   * @param retentionHours the bounded policy's retention window
   * @param keysPerHour new keys per simulated hour
   * @param updatesPerHour updates and deletes of existing keys per simulated hour
   * @param partitions partitions of each changelog topic
   * @param valueBytes bytes of each value
   * @param deletePercent the share of updates that are deletes
   * @param zipfExponent the skew of updates towards recent keys
   * @param seed the workload's random seed
   * @param dir where the broker keeps its data; null for a temp dir, deleted afterwards
   * @param settleTimeout how long to wait for retention and the cleaner after the last write
   */
  public record Spec(
      int hoursSimulated,
      int retentionHours,
      long keysPerHour,
      long updatesPerHour,
      int partitions,
      int valueBytes,
      int deletePercent,
      double zipfExponent,
      long seed,
      Path dir,
      Duration settleTimeout) {
    ChurnWorkload.Shape shape() {
      return new ChurnWorkload.Shape(
          hoursSimulated, keysPerHour, updatesPerHour, deletePercent, zipfExponent, seed);
    }

    long retentionMs() {
      return retentionHours * ChurnWorkload.HOUR_MS;
    }
  }

  /** The figures of one run. */
  record Result(
      Spec spec,
      long stockBytes,
      long backboneBytes,
      long windowBytes,
      long stateBytes,
      long liveKeys,
      long keysCreated,
      long writtenBytes,
      long records,
      double writeSeconds,
      double settleSeconds,
      double measuredAfterEndSeconds) {}

  private ChangelogDiskBench() {}

  /** Runs the bench and prints the report, its JSON line last. */
  public static void run(Spec spec, PrintStream out) throws Exception {
    spec.shape(); // validates before anything starts
    boolean temp = spec.dir() == null;
    Path root = temp ? Files.createTempDirectory("backbone-changelog-disk") : spec.dir();
    Path kafkaDir = root.resolve("kafka");
    if (Files.isDirectory(kafkaDir) && !isEmpty(kafkaDir)) {
      throw new IllegalArgumentException(
          kafkaDir
              + " already holds a broker's data (an earlier run?); remove it or give another"
              + " --dir, so the topics start empty");
    }
    try (EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder()
            .dataDir(kafkaDir)
            .property("log.cleaner.backoff.ms", "500")
            // Deleted segments are renamed and removed this much later (default 60 s); the
            // measurement does not count them either way, the disk just follows sooner.
            .property("log.segment.delete.delay.ms", "1000")
            .build()) {
      broker.start();
      report(new Run(spec, broker.bootstrapServers(), out).execute()).print(out);
    } finally {
      Exception failure = temp ? Directories.deleteRecursively(root) : null;
      if (failure != null) {
        // stderr: the JSON line stays the last line of stdout
        System.err.println("could not delete the bench's temp dir " + root + ": " + failure);
      }
    }
  }

  static BenchReport report(Result r) {
    Spec spec = r.spec();
    BenchReport report =
        new BenchReport(
            "changelog-disk",
            "Kafka Streams' stock changelog policy (cleanup.policy=compact, kept forever) on the"
                + " same write stream, same broker, same run");
    String retention = spec.retentionHours() + " h";
    report.row(row("stock Kafka Streams, on broker", "compact", "forever", r.stockBytes(), r));
    report.row(
        row("Backbone bounded, on broker", "compact,delete", retention, r.backboneBytes(), r));
    report.row(row("(written in the last " + retention + ")", "-", "-", r.windowBytes(), r));
    report.row(row("(live state at the end)", "-", "-", r.stateBytes(), r));
    report.row(row("(written in all)", "-", "-", r.writtenBytes(), r));
    double ratioToWindow = ratio(r.backboneBytes(), r.windowBytes());
    report.summary("stock_bytes", r.stockBytes());
    report.summary("backbone_bytes", r.backboneBytes());
    report.summary("window_bytes", r.windowBytes());
    report.summary("ratio_to_window", ratioToWindow);
    report.summary("state_bytes", r.stateBytes());
    report.summary("stock_ratio_to_state", ratio(r.stockBytes(), r.stateBytes()));
    report.summary("backbone_over_stock", ratio(r.backboneBytes(), r.stockBytes()));
    report.summary("written_bytes", r.writtenBytes());
    report.summary("hours_simulated", spec.hoursSimulated());
    report.summary("retention_hours", spec.retentionHours());
    report.summary("goal_ratio_to_window", GOAL_RATIO_TO_WINDOW);
    report.summary("goal_met", ratioToWindow <= GOAL_RATIO_TO_WINDOW);
    report.summary("live_keys", r.liveKeys());
    report.summary("keys_created", r.keysCreated());
    report.summary("records", r.records());
    report.summary("partitions", spec.partitions());
    report.summary("key_bytes", KEY_BYTES);
    report.summary("value_bytes", spec.valueBytes());
    report.summary("keys_per_hour", spec.keysPerHour());
    report.summary("updates_per_hour", spec.updatesPerHour());
    report.summary("delete_percent", spec.deletePercent());
    report.summary("zipf_exponent", spec.zipfExponent());
    report.summary("seed", spec.seed());
    report.summary("write_seconds", round(r.writeSeconds()));
    report.summary("settle_seconds", round(r.settleSeconds()));
    report.summary("measured_after_end_seconds", round(r.measuredAfterEndSeconds()));
    return report;
  }

  private static Map<String, Object> row(
      String policy, String cleanup, String retention, long bytes, Result r) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("policy", policy);
    row.put("cleanup.policy", cleanup);
    row.put("retention", retention);
    row.put("bytes", bytes);
    row.put("MB", String.format(Locale.ROOT, "%.1f", bytes / 1e6));
    row.put("x window", ratio(bytes, r.windowBytes()));
    row.put("x state", ratio(bytes, r.stateBytes()));
    return row;
  }

  private static double ratio(long a, long b) {
    return b == 0 ? Double.NaN : round((double) a / b);
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** One run: its clients, the writes, the settle and the measurement. */
  private static final class Run {
    private final Spec spec;
    private final String bootstrap;
    private final PrintStream out;

    Run(Spec spec, String bootstrap, PrintStream out) {
      this.spec = spec;
      this.bootstrap = bootstrap;
      this.out = out;
    }

    Result execute() throws Exception {
      try (Admin admin =
          Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        int brokerId =
            admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).iterator().next().id();
        new WritableTopics(admin)
            .create(
                List.of(
                    topic(STOCK_TOPIC, Map.of()),
                    topic(
                        BACKBONE_TOPIC,
                        // What a node sets on its changelogs (one definition), with this
                        // bench's simulated hour as the segment roll.
                        ChangelogRetention.topicConfigs(
                            Duration.ofMillis(spec.retentionMs()),
                            spec.retentionMs(),
                            ChurnWorkload.HOUR_MS))));
        ChurnWorkload.Shape shape = spec.shape();
        out.printf(
            Locale.ROOT,
            "changelog-disk: %d simulated hours, %d new keys + %d updates (%d%% deletes) per hour,"
                + " %d-byte values, %d partitions, retention %d h, seed %d%n",
            spec.hoursSimulated(),
            spec.keysPerHour(),
            spec.updatesPerHour(),
            spec.deletePercent(),
            spec.valueBytes(),
            spec.partitions(),
            spec.retentionHours(),
            spec.seed());
        out.printf(
            Locale.ROOT,
            "| simulated hour | written MB | window MB | stock MB on broker | backbone MB on"
                + " broker |%n|---|---|---|---|---|%n");

        long endMs = System.currentTimeMillis();
        long startMs = endMs - spec.hoursSimulated() * ChurnWorkload.HOUR_MS;
        ChurnWorkload workload = new ChurnWorkload(shape);
        WriteTally tally = new WriteTally(startMs, spec.hoursSimulated());
        long writeStart = System.nanoTime();
        try (Writer writer = new Writer(bootstrap, spec.valueBytes(), spec.seed(), tally)) {
          int reportEvery = Math.max(1, spec.hoursSimulated() / 12);
          for (int hour = 0; hour < spec.hoursSimulated(); hour++) {
            long simulatedNow = startMs + hour * ChurnWorkload.HOUR_MS;
            setRetention(
                admin, spec.retentionMs() + Math.max(0, System.currentTimeMillis() - simulatedNow));
            workload.writeHour(hour, startMs, writer);
            if ((hour + 1) % reportEvery == 0 || hour + 1 == spec.hoursSimulated()) {
              writer.flush();
              long hourEnd = simulatedNow + ChurnWorkload.HOUR_MS;
              Map<String, Long> sizes = topicBytes(admin, brokerId);
              out.printf(
                  Locale.ROOT,
                  "| %d | %.1f | %.1f | %.1f | %.1f |%n",
                  hour + 1,
                  tally.bytes() / 1e6,
                  tally.bytesSince(hourEnd - spec.retentionMs()) / 1e6,
                  sizes.get(STOCK_TOPIC) / 1e6,
                  sizes.get(BACKBONE_TOPIC) / 1e6);
            }
          }
          writer.flush();
          writer.checkAllAcknowledged();
        }
        double writeSeconds = (System.nanoTime() - writeStart) / 1e9;
        out.printf(
            Locale.ROOT,
            "wrote %d records (%.1f MB) to each topic in %.1f s; retention.ms of %s back to %d;"
                + " waiting for retention and the cleaner to settle%n",
            tally.records(),
            tally.bytes() / 1e6,
            writeSeconds,
            BACKBONE_TOPIC,
            spec.retentionMs());
        setRetention(admin, spec.retentionMs());

        long settleStart = System.nanoTime();
        Map<String, Long> sizes = awaitSettled(admin, brokerId);
        double settleSeconds = (System.nanoTime() - settleStart) / 1e9;
        long measuredAt = System.currentTimeMillis();
        sizes = topicBytes(admin, brokerId);
        long liveKeys = workload.liveKeys();
        return new Result(
            spec,
            sizes.get(STOCK_TOPIC),
            sizes.get(BACKBONE_TOPIC),
            tally.bytesSince(measuredAt - spec.retentionMs()),
            liveKeys * (KEY_BYTES + spec.valueBytes()),
            liveKeys,
            workload.keysCreated(),
            tally.bytes(),
            tally.records(),
            writeSeconds,
            settleSeconds,
            (measuredAt - endMs) / 1e3);
      }
    }

    /** Settings both topics share, then {@code extra}. */
    private NewTopic topic(String name, Map<String, String> extra) {
      Map<String, String> configs = new LinkedHashMap<>();
      configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
      configs.put(TopicConfig.SEGMENT_MS_CONFIG, Long.toString(ChurnWorkload.HOUR_MS));
      configs.put(TopicConfig.SEGMENT_BYTES_CONFIG, Integer.toString(SEGMENT_BYTES));
      configs.put(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, MIN_CLEANABLE_DIRTY_RATIO);
      configs.put(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "0");
      configs.put(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "CreateTime");
      configs.put(
          TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG, Long.toString(Long.MAX_VALUE));
      configs.put(TopicConfig.FILE_DELETE_DELAY_MS_CONFIG, "1000");
      configs.putAll(extra);
      return new NewTopic(name, spec.partitions(), (short) 1).configs(configs);
    }

    private static void setRetention(Admin admin, long retentionMs) throws Exception {
      admin
          .incrementalAlterConfigs(
              Map.of(
                  new ConfigResource(ConfigResource.Type.TOPIC, BACKBONE_TOPIC),
                  List.of(
                      new AlterConfigOp(
                          new ConfigEntry(
                              TopicConfig.RETENTION_MS_CONFIG, Long.toString(retentionMs)),
                          AlterConfigOp.OpType.SET),
                      // The bounded policy compacts only what it may delete: the lag follows.
                      new AlterConfigOp(
                          new ConfigEntry(
                              TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, Long.toString(retentionMs)),
                          AlterConfigOp.OpType.SET))))
          .all()
          .get(30, TimeUnit.SECONDS);
    }

    private Map<String, Long> awaitSettled(Admin admin, int brokerId) throws Exception {
      SettleDetector detector = new SettleDetector(MIN_QUIET, QUIET_GAP_FACTOR);
      long start = System.nanoTime();
      long deadline = start + spec.settleTimeout().toNanos();
      while (true) {
        Map<String, Long> sizes = topicBytes(admin, brokerId);
        long now = System.nanoTime();
        if (detector.offer(
            TimeUnit.NANOSECONDS.toMillis(now - start),
            sizes.get(STOCK_TOPIC),
            sizes.get(BACKBONE_TOPIC))) {
          return sizes;
        }
        if (now - deadline > 0) {
          throw new IllegalStateException(
              "the broker's retention and log cleaner did not settle within "
                  + spec.settleTimeout().toSeconds()
                  + " s after the last write (the topics still shrank in the last "
                  + detector.quietMs() / 1000
                  + " s; last sizes "
                  + sizes
                  + "). Raise --settle-timeout, or check the broker's log-cleaner output for"
                  + " errors.");
        }
        Thread.sleep(POLL.toMillis());
      }
    }

    /** Each topic's bytes on the broker: the sum of its partitions' log sizes. */
    private static Map<String, Long> topicBytes(Admin admin, int brokerId) throws Exception {
      Map<String, Long> bytes = new LinkedHashMap<>();
      bytes.put(STOCK_TOPIC, 0L);
      bytes.put(BACKBONE_TOPIC, 0L);
      Map<String, LogDirDescription> dirs =
          admin
              .describeLogDirs(List.of(brokerId))
              .allDescriptions()
              .get(30, TimeUnit.SECONDS)
              .get(brokerId);
      for (LogDirDescription dir : dirs.values()) {
        dir.replicaInfos()
            .forEach(
                (tp, info) -> {
                  if (bytes.containsKey(tp.topic()) && !info.isFuture()) {
                    bytes.merge(tp.topic(), info.size(), Long::sum);
                  }
                });
      }
      return bytes;
    }
  }

  /**
   * Sends each write of the workload to both topics with the same key, value and timestamp, and
   * tallies it. The first send Kafka refuses stops the bench: a lost record would make the topics'
   * sizes wrong without a trace.
   */
  private static final class Writer implements ChurnWorkload.Sink, AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final int valueBytes;
    private final SplittableRandom values;
    private final WriteTally tally;
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();
    private long sent;

    Writer(String bootstrap, int valueBytes, long seed, WriteTally tally) {
      this.producer =
          new KafkaProducer<>(
              Map.of(
                  ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  bootstrap,
                  ProducerConfig.ACKS_CONFIG,
                  "all",
                  ProducerConfig.LINGER_MS_CONFIG,
                  20,
                  ProducerConfig.BATCH_SIZE_CONFIG,
                  256 * 1024,
                  ProducerConfig.COMPRESSION_TYPE_CONFIG,
                  "none"),
              new ByteArraySerializer(),
              new ByteArraySerializer());
      this.valueBytes = valueBytes;
      this.values = new SplittableRandom(~seed);
      this.tally = tally;
    }

    @Override
    public void write(long timestampMs, long key, boolean tombstone) {
      throwIfFailed();
      byte[] k = key(key);
      byte[] v = null;
      if (!tombstone) {
        v = new byte[valueBytes];
        values.nextBytes(v); // incompressible, whatever a broker or producer might compress
      }
      for (String topic : TOPICS) {
        producer.send(
            new ProducerRecord<>(topic, null, timestampMs, k, v),
            (metadata, e) -> {
              if (e != null) {
                failed.incrementAndGet();
                failure.compareAndSet(null, e);
              } else {
                acknowledged.incrementAndGet();
              }
            });
        sent++;
      }
      tally.add(timestampMs, KEY_BYTES + (v == null ? 0 : v.length));
    }

    void flush() {
      producer.flush();
      throwIfFailed();
    }

    /** After a flush: every record sent was acknowledged. */
    void checkAllAcknowledged() {
      throwIfFailed();
      if (acknowledged.get() != sent) {
        throw new IllegalStateException(
            "sent " + sent + " records but Kafka acknowledged " + acknowledged.get());
      }
    }

    private void throwIfFailed() {
      Exception e = failure.get();
      if (e != null) {
        throw new IllegalStateException(
            "Kafka refused "
                + failed.get()
                + " record(s) of the changelog stream, first: "
                + e
                + "; the topics' sizes would be wrong, so the bench stops",
            e);
      }
    }

    @Override
    public void close() {
      producer.close();
    }

    /** 16 ASCII digits, zero-padded. */
    static byte[] key(long index) {
      byte[] k = new byte[KEY_BYTES];
      long rest = index;
      for (int i = KEY_BYTES - 1; i >= 0; i--) {
        k[i] = (byte) ('0' + rest % 10);
        rest /= 10;
      }
      return k;
    }
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }
}
