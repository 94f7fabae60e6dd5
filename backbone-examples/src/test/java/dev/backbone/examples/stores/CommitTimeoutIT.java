package dev.backbone.examples.stores;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.store.BackboneClientSupplier;
import dev.backbone.store.BackboneStores;
import dev.backbone.store.internals.BackboneKeyValueStore;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

/**
 * A commit whose outcome is unknown (the transactional producer's {@code commitTransaction()} timed
 * out) is never treated as an abort, and never as a commit either.
 *
 * <p>The topology counts per key in a Backbone store and, on a wall-clock punctuator, increments a
 * {@code tick-<partition>} counter in every task. Input goes to partition 0 only, so task 0_1 has
 * writes in every transaction but no consumed offsets: when the commit times out, Kafka Streams
 * marks only 0_0 corrupted ({@code TaskExecutor#commitOffsetsOrTransaction} corrupts the tasks that
 * had offsets to commit), then retries the commit for the others in {@code
 * TaskManager#handleCorruption}, and 0_1 keeps running. Every value a store ever held is in its
 * changelog (no record cache), so a store that lost the writes of the retried transaction shows up
 * as a counter that repeats a value: the test checks every value along the way, not only the last.
 *
 * <p>The timeout is injected between Kafka Streams and the real producer, modelled on the client's
 * contract ({@code org.apache.kafka.clients.producer.internals.TransactionManager}: after a timed
 * out {@code commitTransaction()} only a retry of the same call is allowed; {@code
 * abortTransaction()} and a new transaction throw {@code IllegalStateException}, and an empty
 * {@code sendOffsetsToTransaction} is a no-op in {@code KafkaProducer}).
 */
@BackboneKafkaCluster(brokers = 1)
class CommitTimeoutIT {
  private static final String STORE = "counts";
  private static final long TICK_MS = 20;

  @TempDir Path dir;
  private KafkaStreams streams;

  @AfterEach
  void stop() {
    if (streams != null) {
      streams.close(Duration.ofSeconds(60));
    }
  }

  @Test
  void aTimedOutCommitThatARetryCommitsKeepsEveryStoreExact(TestKafkaCluster kafka)
      throws Exception {
    String appId = kafka.uniqueName("commit-timeout");
    String input = appId + "-in";
    kafka.createTopic(input, 2);
    FaultyCommitSupplier supplier = new FaultyCommitSupplier();
    streams = start(kafka, appId, input, supplier, false);
    produce(kafka, input, 0, 300);
    String changelog = appId + "-" + STORE + "-changelog";
    awaitChangelogTicks(kafka, changelog, 20);

    supplier.timeOutNextCommit();
    await("the injected commit timeout")
        .atMost(Duration.ofSeconds(60))
        .until(() -> supplier.timeoutsInjected() == 1);
    produce(kafka, input, 300, 300);
    long ticks = countTicks(kafka, changelog);
    awaitChangelogTicks(kafka, changelog, ticks + 40);
    try {
      await("every input record counted once")
          .atMost(Duration.ofMinutes(4))
          .untilAsserted(
              () ->
                  assertThat(lastValues(kafka, changelog))
                      .containsAllEntriesOf(expectedCounts(600)));
    } catch (ConditionTimeoutException e) {
      // Seen once on a loaded CI machine, with the tasks' tick counters stopped too: say what the
      // application's threads were doing, so that a hang can be told from a lost record.
      throw new AssertionError(
          e.getMessage() + "\nKafka Streams state " + streams.state() + "\n" + streamThreadDump(),
          e);
    }

    assertEveryCounterCountsOneByOne(kafka, changelog);
    assertThat(supplier.retriesAfterTimeout()).isEqualTo(1);
  }

  @Test
  void aTimedOutCommitAtCloseNeverPersistsTheTransactionsWrites(TestKafkaCluster kafka)
      throws Exception {
    String appId = kafka.uniqueName("close-timeout");
    String input = appId + "-in";
    kafka.createTopic(input, 2);
    FaultyCommitSupplier supplier = new FaultyCommitSupplier();
    streams = start(kafka, appId, input, supplier, true);
    produce(kafka, input, 0, 300);
    String changelog = appId + "-" + STORE + "-changelog";
    awaitChangelogTicks(kafka, changelog, 20);

    // The last commit, inside close(), times out and is never retried: Kafka Streams then closes
    // the tasks dirty (TaskManager#tryCloseCleanActiveTasks), still calling commit(Map) on their
    // stores; the broker aborts the open transaction once it times out. The record cache makes
    // sure that last transaction has writes: close flushes the ticks it holds into the store and
    // the changelog (StreamTask#prepareCommit) just before that commit.
    supplier.timeOutCommitsAtClose();
    streams.close(Duration.ofSeconds(60));
    streams = null;
    assertThat(supplier.timeoutsInjected()).isPositive();

    for (int partition = 0; partition < 2; partition++) {
      Path storeDir = storeDirectory(appId, partition);
      Map<TopicPartition, Long> offsets = BackboneKeyValueStore.committedOffsetsAt(storeDir);
      TopicPartition tp = new TopicPartition(changelog, partition);
      Map<String, Long> expected = changelogStateUpTo(kafka, tp, offsets.get(tp));
      assertThat(storeContents(storeDir))
          .as(
              "task 0_%d: the store holds exactly the changelog up to its offset %s",
              partition, offsets.get(tp))
          .isEqualTo(expected);
    }
  }

  /**
   * Starts the counting topology; with {@code cached} the store has Kafka Streams' record cache and
   * commits once a second, otherwise no cache and a commit every 100 ms.
   */
  private KafkaStreams start(
      TestKafkaCluster kafka,
      String appId,
      String input,
      FaultyCommitSupplier supplier,
      boolean cached) {
    Topology topology = new Topology();
    topology.addSource("in", new StringDeserializer(), new StringDeserializer(), input);
    topology.addProcessor("count", Counter::new, "in");
    StoreBuilder<KeyValueStore<String, Long>> store =
        Stores.keyValueStoreBuilder(
            BackboneStores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.Long());
    topology.addStateStore(cached ? store.withCachingEnabled() : store, "count");
    Properties props = kafka.clientProperties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.putAll(BackboneStores.streamsSettings());
    // the supplier object below is used; the store checks that the class reports transactions
    props.put(StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG, FaultyCommitSupplier.class);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, cached ? 1_000 : 100);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    KafkaStreams started = new KafkaStreams(topology, props, supplier);
    started.start();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> started.state() == KafkaStreams.State.RUNNING);
    return started;
  }

  /** The stacks of Kafka Streams' threads (stream threads, state updaters, producers). */
  private static String streamThreadDump() {
    StringBuilder out = new StringBuilder();
    for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
      String name = info.getThreadName();
      if (name.contains("StreamThread") || name.contains("StateUpdater")) {
        out.append(info);
        for (StackTraceElement frame : info.getStackTrace()) {
          out.append("\tat ").append(frame).append('\n');
        }
      }
    }
    return out.toString();
  }

  private Path storeDirectory(String appId, int partition) {
    return dir.resolve("state")
        .resolve(appId)
        .resolve("0_" + partition)
        .resolve("backbone")
        .resolve(STORE);
  }

  /**
   * Counts records per key, and ticks a per-task counter every {@value #TICK_MS} ms of wall-clock
   * time.
   */
  static final class Counter implements Processor<String, String, Void, Void> {
    private KeyValueStore<String, Long> counts;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      counts = context.getStateStore(STORE);
      String tick = "tick-" + context.taskId().partition();
      context.schedule(
          Duration.ofMillis(TICK_MS), PunctuationType.WALL_CLOCK_TIME, now -> increment(tick));
    }

    @Override
    public void process(Record<String, String> record) {
      increment(record.key());
    }

    private void increment(String key) {
      Long old = counts.get(key);
      counts.put(key, old == null ? 1L : old + 1);
    }
  }

  /** Sends records k-0 .. k-49 round robin to partition 0 only. */
  private static void produce(TestKafkaCluster kafka, String topic, int from, int count) {
    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      for (int i = from; i < from + count; i++) {
        producer.send(new ProducerRecord<>(topic, 0, "k-" + (i % 50), "v"));
      }
      producer.flush();
    }
  }

  private static Map<String, Long> expectedCounts(int records) {
    Map<String, Long> counts = new HashMap<>();
    for (int i = 0; i < records; i++) {
      counts.merge("k-" + (i % 50), 1L, Long::sum);
    }
    return counts;
  }

  private static List<ConsumerRecord<String, Long>> changelog(
      TestKafkaCluster kafka, String topic) {
    return kafka.readAll(
        topic, new StringDeserializer(), new LongDeserializer(), Duration.ofSeconds(30));
  }

  private static long countTicks(TestKafkaCluster kafka, String changelog) {
    return changelog(kafka, changelog).stream().filter(r -> r.key().startsWith("tick-")).count();
  }

  private static void awaitChangelogTicks(TestKafkaCluster kafka, String changelog, long ticks) {
    await("at least " + ticks + " committed ticks")
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> countTicks(kafka, changelog) >= ticks);
  }

  private static Map<String, Long> lastValues(TestKafkaCluster kafka, String changelog) {
    Map<String, Long> last = new HashMap<>();
    changelog(kafka, changelog).forEach(r -> last.put(r.key(), r.value()));
    return last;
  }

  /**
   * Every committed changelog record of a key holds its previous value plus one: a store that lost
   * writes would count from an older value again and repeat it.
   */
  private static void assertEveryCounterCountsOneByOne(TestKafkaCluster kafka, String changelog) {
    Map<String, List<Long>> values = new HashMap<>();
    for (ConsumerRecord<String, Long> r : changelog(kafka, changelog)) {
      values.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
    }
    assertThat(values).containsKeys("tick-0", "tick-1");
    values.forEach(
        (key, seen) -> {
          for (int i = 0; i < seen.size(); i++) {
            assertThat(seen.get(i))
                .as("value %d of %s in the changelog (all: %s)", i, key, seen)
                .isEqualTo(i + 1L);
          }
        });
  }

  /** The latest committed value of every key in one changelog partition, up to {@code offset}. */
  private static Map<String, Long> changelogStateUpTo(
      TestKafkaCluster kafka, TopicPartition tp, Long offset) {
    Map<String, Long> state = new HashMap<>();
    if (offset == null) {
      return state;
    }
    for (ConsumerRecord<String, Long> r : changelog(kafka, tp.topic())) {
      if (r.partition() == tp.partition() && r.offset() <= offset) {
        state.put(r.key(), r.value());
      }
    }
    return state;
  }

  /** Every key and value in the data column family of a closed Backbone store. */
  private static Map<String, Long> storeContents(Path storeDir) throws Exception {
    assertThat(Files.isDirectory(storeDir)).as("store directory %s", storeDir).isTrue();
    Map<String, Long> contents = new HashMap<>();
    try (Stream<Path> files = Files.list(storeDir)) {
      assertThat(files.count()).isPositive();
    }
    try (Options options = new Options();
        RocksDB db = RocksDB.openReadOnly(options, storeDir.toString());
        RocksIterator it = db.newIterator()) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        contents.put(
            new String(it.key(), StandardCharsets.UTF_8), ByteBuffer.wrap(it.value()).getLong());
      }
    }
    return contents;
  }

  /** The client supplier Backbone stores need under exactly-once, with a commit that times out. */
  static final class FaultyCommitSupplier extends BackboneClientSupplier {
    private final CommitTimeouts timeouts = new CommitTimeouts();

    void timeOutNextCommit() {
      timeouts.arm(CommitTimeouts.Mode.NEXT);
    }

    void timeOutCommitsAtClose() {
      timeouts.arm(CommitTimeouts.Mode.AT_CLOSE);
    }

    int timeoutsInjected() {
      return timeouts.injected();
    }

    int retriesAfterTimeout() {
      return timeouts.retries();
    }

    @Override
    protected org.apache.kafka.clients.producer.Producer<byte[], byte[]> createProducer(
        Map<String, Object> config) {
      return new TimingOutProducer(super.createProducer(config), timeouts);
    }
  }
}
