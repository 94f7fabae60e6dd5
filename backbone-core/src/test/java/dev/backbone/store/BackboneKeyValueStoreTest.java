package dev.backbone.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import dev.backbone.store.internals.BackboneKeyValueStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.processor.BatchingStateRestoreCallback;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.internals.ChangelogRecordDeserializationHelper;
import org.apache.kafka.streams.processor.internals.RecordBatchingStateRestoreCallback;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.RangeQuery;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.internals.PositionSerde;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KeyValueStore contract, reads of uncommitted writes, offsets and IQv2 of the store, under
 * at-least-once (where every commit applies); what exactly-once adds is in {@link
 * TransactionCommitTest}.
 */
class BackboneKeyValueStoreTest {
  static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 0);

  @TempDir Path dir;
  TestStoreContext context;
  BackboneKeyValueStore store;

  @BeforeEach
  void open() {
    context = new TestStoreContext(dir, new TaskId(0, 0), StreamsConfig.AT_LEAST_ONCE);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
  }

  @AfterEach
  void close() {
    store.close();
  }

  static Bytes k(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] v(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static Bytes raw(int... bytes) {
    byte[] b = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      b[i] = (byte) bytes[i];
    }
    return Bytes.wrap(b);
  }

  static List<String> keys(KeyValueIterator<Bytes, byte[]> it) {
    List<String> out = new ArrayList<>();
    try (it) {
      while (it.hasNext()) {
        out.add(new String(it.next().key.get(), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  void reopen() {
    store.close();
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
  }

  @Test
  void readsSeeUncommittedWritesBeforeCommit() {
    store.put(k("a"), v("1"));
    assertThat(store.get(k("a"))).isEqualTo(v("1"));
    assertThat(keys(store.all())).containsExactly("a");
    store.commit(Map.of(CHANGELOG, 5L));
    store.delete(k("a"));
    assertThat(store.get(k("a"))).isNull();
    assertThat(keys(store.all())).isEmpty();
  }

  @Test
  void uncommittedWritesAreGoneAfterReopen() {
    store.put(k("a"), v("1"));
    store.commit(Map.of(CHANGELOG, 7L));
    store.put(k("b"), v("2"));
    store.delete(k("a"));
    reopen();
    assertThat(store.get(k("a"))).isEqualTo(v("1"));
    assertThat(store.get(k("b"))).isNull();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(7L);
  }

  @Test
  void managesOffsetsAndReportsNoneBeforeTheFirstCommit() {
    assertThat(managesOffsets()).isTrue();
    assertThat(store.committedOffset(CHANGELOG)).isNull();
    store.commit(Map.of(CHANGELOG, 3L));
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(3L);
    assertThat(store.committedOffsets()).containsEntry(CHANGELOG, 3L);
    assertThat(store.committedOffset(new TopicPartition("other", 0))).isNull();
  }

  @SuppressWarnings("deprecation")
  private boolean managesOffsets() {
    return store.managesOffsets();
  }

  @Test
  void putNullIsADelete() {
    store.put(k("a"), v("1"));
    store.commit(Map.of());
    store.put(k("a"), null);
    assertThat(store.get(k("a"))).isNull();
    assertThat(keys(store.range(k("a"), k("z")))).isEmpty();
  }

  @Test
  void putIfAbsentKeepsTheExistingValue() {
    assertThat(store.putIfAbsent(k("a"), v("1"))).isNull();
    assertThat(store.putIfAbsent(k("a"), v("2"))).isEqualTo(v("1"));
    assertThat(store.get(k("a"))).isEqualTo(v("1"));
  }

  @Test
  void putAllAndDeleteReturnTheOldValue() {
    store.putAll(List.of(KeyValue.pair(k("a"), v("1")), KeyValue.pair(k("b"), v("2"))));
    assertThat(store.delete(k("a"))).isEqualTo(v("1"));
    assertThat(store.delete(k("missing"))).isNull();
    assertThat(keys(store.all())).containsExactly("b");
  }

  @Test
  void rangesMergeCommittedAndUncommittedInOrder() {
    for (String key : List.of("a", "c", "e", "g")) {
      store.put(k(key), v(key));
    }
    store.commit(Map.of(CHANGELOG, 1L));
    store.put(k("b"), v("b"));
    store.delete(k("c"));
    store.put(k("e"), v("E"));
    store.put(k("h"), v("h"));
    assertThat(keys(store.range(k("b"), k("g")))).containsExactly("b", "e", "g");
    assertThat(keys(store.reverseRange(k("b"), k("g")))).containsExactly("g", "e", "b");
    assertThat(keys(store.all())).containsExactly("a", "b", "e", "g", "h");
    assertThat(keys(store.reverseAll())).containsExactly("h", "g", "e", "b", "a");
    try (KeyValueIterator<Bytes, byte[]> it = store.range(k("e"), k("e"))) {
      assertThat(it.peekNextKey()).isEqualTo(k("e"));
      assertThat(it.next().value).isEqualTo(v("E"));
      assertThat(it.hasNext()).isFalse();
      assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
    }
  }

  @Test
  void emptyAndInvertedRangesAreEmpty() {
    store.put(k("a"), v("1"));
    assertThat(keys(store.range(k("x"), k("z")))).isEmpty();
    assertThat(keys(store.range(k("z"), k("a")))).isEmpty();
    assertThat(keys(store.reverseRange(k("z"), k("a")))).isEmpty();
    assertThat(keys(store.range(null, null))).containsExactly("a");
    assertThat(keys(store.range(null, k("a")))).containsExactly("a");
    assertThat(keys(store.reverseRange(k("a"), null))).containsExactly("a");
  }

  @Test
  void prefixScanCrossesByteBoundaries() {
    List<Bytes> all =
        List.of(
            raw(0x01, 0xFE),
            raw(0x01, 0xFF),
            raw(0x01, 0xFF, 0x00),
            raw(0x01, 0xFF, 0xFF),
            raw(0x02),
            raw(0x02, 0x00),
            raw(0xFF),
            raw(0xFF, 0x01));
    for (int i = 0; i < all.size(); i++) {
      store.put(all.get(i), v("v" + i));
      if (i == 3) {
        store.commit(Map.of());
      }
    }
    assertThat(rawKeys(store.prefixScan(raw(0x01, 0xFF), Serdes.Bytes().serializer())))
        .containsExactly(raw(0x01, 0xFF), raw(0x01, 0xFF, 0x00), raw(0x01, 0xFF, 0xFF));
    assertThat(rawKeys(store.prefixScan(raw(0x01), Serdes.Bytes().serializer()))).hasSize(4);
    assertThat(rawKeys(store.prefixScan(raw(0xFF), Serdes.Bytes().serializer())))
        .containsExactly(raw(0xFF), raw(0xFF, 0x01));
    assertThat(rawKeys(store.prefixScan(raw(0x03), Serdes.Bytes().serializer()))).isEmpty();
    assertThat(rawKeys(store.prefixScan("", Serdes.String().serializer()))).hasSize(8);
  }

  static List<Bytes> rawKeys(KeyValueIterator<Bytes, byte[]> it) {
    List<Bytes> out = new ArrayList<>();
    try (it) {
      it.forEachRemaining(kv -> out.add(kv.key));
    }
    return out;
  }

  @Test
  void iteratorsAreStableAgainstLaterWritesAndClosedWithTheStore() {
    store.put(k("a"), v("1"));
    store.put(k("b"), v("2"));
    KeyValueIterator<Bytes, byte[]> it = store.all();
    store.put(k("c"), v("3"));
    store.delete(k("b"));
    assertThat(keys(it)).containsExactly("a", "b");
    KeyValueIterator<Bytes, byte[]> open = store.all();
    store.close();
    assertThatThrownBy(open::hasNext).isInstanceOf(InvalidStateStoreException.class);
    assertThatThrownBy(() -> store.get(k("a"))).isInstanceOf(InvalidStateStoreException.class);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
  }

  @Test
  void approximateNumEntriesCountsWrites() {
    for (int i = 0; i < 100; i++) {
      store.put(k("k" + i), v("v"));
    }
    store.commit(Map.of(CHANGELOG, 100L));
    assertThat(store.approximateNumEntries()).isBetween(50L, 200L);
  }

  @Test
  void restoredRecordsAreWrittenDirectly() {
    BatchingStateRestoreCallback restore = (BatchingStateRestoreCallback) context.restoreCallback;
    restore.restoreAll(List.of(KeyValue.pair(v("a"), v("1")), KeyValue.pair(v("b"), v("2"))));
    restore.restoreAll(List.of(KeyValue.pair(v("a"), null)));
    store.commit(Map.of(CHANGELOG, 2L));
    reopen();
    assertThat(keys(store.all())).containsExactly("b");
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(2L);
  }

  @Test
  void aRestoredReplicaKnowsThePositionOfWhatItRestoredAndKeepsItAcrossAReopen() {
    context.configs.put(StreamsConfig.InternalConfig.IQ_CONSISTENCY_OFFSET_VECTOR_ENABLED, true);
    reopen();
    RecordBatchingStateRestoreCallback restore =
        (RecordBatchingStateRestoreCallback) context.restoreCallback;
    restore.restoreBatch(
        List.of(
            changelogRecord(0, "a", "1", Position.emptyPosition().withComponent("in", 0, 40L)),
            changelogRecord(1, "b", "2", Position.emptyPosition().withComponent("in", 0, 41L))));
    assertThat(store.getPosition().getPartitionPositions("in")).containsExactly(entry(0, 41L));
    QueryResult<byte[]> read =
        store.query(
            KeyQuery.withKey(k("b")),
            PositionBound.unbounded(),
            new QueryConfig(false, IsolationLevel.READ_COMMITTED));
    assertThat(read.getPosition().getPartitionPositions("in")).containsExactly(entry(0, 41L));

    reopen();
    assertThat(store.getPosition().getPartitionPositions("in")).containsExactly(entry(0, 41L));
    assertThat(store.get(k("b"))).isEqualTo(v("2"));
  }

  @Test
  void withoutChangelogPositionsARestoredReplicaClaimsNoPosition() {
    context.configs.put(StreamsConfig.InternalConfig.IQ_CONSISTENCY_OFFSET_VECTOR_ENABLED, false);
    reopen();
    RecordBatchingStateRestoreCallback restore =
        (RecordBatchingStateRestoreCallback) context.restoreCallback;
    restore.restoreBatch(
        List.of(
            changelogRecord(0, "a", "1", Position.emptyPosition().withComponent("in", 0, 40L))));
    assertThat(store.getPosition().isEmpty()).as("%s", store.getPosition()).isTrue();
    assertThat(store.get(k("a"))).isEqualTo(v("1"));
  }

  /** A changelog record as Kafka Streams logs it with consistency vectors on. */
  private static ConsumerRecord<byte[], byte[]> changelogRecord(
      long offset, String key, String value, Position position) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(ChangelogRecordDeserializationHelper.CHANGELOG_VERSION_HEADER_RECORD_CONSISTENCY);
    headers.add(
        ChangelogRecordDeserializationHelper.CHANGELOG_POSITION_HEADER_KEY,
        PositionSerde.serialize(position).array());
    return new ConsumerRecord<>(
        CHANGELOG.topic(),
        CHANGELOG.partition(),
        offset,
        0L,
        TimestampType.CREATE_TIME,
        key.length(),
        value.length(),
        key.getBytes(StandardCharsets.UTF_8),
        value.getBytes(StandardCharsets.UTF_8),
        headers,
        Optional.empty());
  }

  @Test
  void reportsItsUncommittedBytesSoKafkaStreamsCommitsEarly() {
    assertThat(store.approximateNumUncommittedBytes()).isZero();
    for (int i = 0; i < 50; i++) {
      store.put(k("k" + i), new byte[100]);
    }
    long fifty = store.approximateNumUncommittedBytes();
    assertThat(fifty).isGreaterThanOrEqualTo(50 * (100 + 2L));
    store.commit(Map.of(CHANGELOG, 49L));
    assertThat(store.approximateNumUncommittedBytes()).isZero();
  }

  @Test
  void aKeyRewrittenBetweenCommitsCountsOnceInTheUncommittedBytes() {
    store.put(k("hot"), new byte[100]);
    long once = store.approximateNumUncommittedBytes();
    for (int i = 0; i < 50; i++) {
      store.put(k("hot"), new byte[100]);
    }
    assertThat(store.approximateNumUncommittedBytes()).isEqualTo(once);
  }

  @Test
  void neverWritesBeforeACommitHoweverLargeTheBuffer() {
    store.commit(Map.of(CHANGELOG, 1L));
    for (int i = 0; i < 5_000; i++) {
      store.put(k("k" + i), new byte[1_000]);
    }
    reopen(); // a close without commit, as after kill -9
    assertThat(store.get(k("k0"))).isNull();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(1L);
  }

  @Test
  void reportsCommitsOffsetKeysAndDirtinessInKafkaStreamsMetrics() {
    store.put(k("a"), v("1"));
    store.put(k("b"), v("2"));
    store.commit(Map.of(CHANGELOG, 7L));
    assertThat(metric("backbone-commit-total")).isEqualTo(1.0);
    assertThat(metric("backbone-commit-bytes-max")).isGreaterThan(0.0);
    assertThat(metric("backbone-commit-latency-max")).isGreaterThanOrEqualTo(0.0);
    assertThat(metric("backbone-committed-offset")).isEqualTo(7.0);
    assertThat(metric("backbone-estimated-num-keys")).isGreaterThanOrEqualTo(1.0);
    assertThat(metric("backbone-live-sst-bytes")).isGreaterThanOrEqualTo(0.0);
    assertThat(metric("backbone-dirty")).isEqualTo(0.0);

    store.close();
    assertThat(context.registry.metrics().keySet())
        .as("sensors removed on close")
        .noneMatch(n -> n.name().startsWith("backbone-"));
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
    store.committedOffset(CHANGELOG); // Kafka Streams reads it at init, so the store is logged
    store.put(k("a"), v("1"));
    store.commit(Map.of()); // a corrupted changelog
    assertThat(metric("backbone-dirty")).isEqualTo(1.0);
    assertThat(store.committedOffset(CHANGELOG)).isNull();
  }

  private double metric(String name) {
    return context.registry.metrics().entrySet().stream()
        .filter(e -> e.getKey().name().equals(name))
        .filter(e -> e.getKey().group().equals("stream-state-metrics"))
        .filter(e -> "s".equals(e.getKey().tags().get("backbone-state-id")))
        .filter(e -> context.taskId.toString().equals(e.getKey().tags().get("task-id")))
        .map(e -> ((Number) e.getValue().metricValue()).doubleValue())
        .findFirst()
        .orElseThrow(() -> new AssertionError("no metric " + name));
  }

  @Test
  @SuppressWarnings("unchecked")
  void answersKeyAndRangeQueriesWithPositions() {
    context.at("input", 0, 41);
    store.put(k("a"), v("1"));
    context.at("input", 0, 42);
    store.put(k("b"), v("2"));
    QueryResult<byte[]> key =
        store.query(KeyQuery.withKey(k("a")), PositionBound.unbounded(), new QueryConfig(true));
    assertThat(key.isSuccess()).isTrue();
    assertThat(key.getResult()).isEqualTo(v("1"));
    assertThat(key.getPosition().getPartitionPositions("input")).containsEntry(0, 42L);

    QueryResult<KeyValueIterator<Bytes, byte[]>> range =
        store.query(
            RangeQuery.<Bytes, byte[]>withRange(k("a"), k("b")).withDescendingKeys(),
            PositionBound.unbounded(),
            new QueryConfig(false));
    assertThat(keys(range.getResult())).containsExactly("b", "a");

    QueryResult<byte[]> ahead =
        store.query(
            KeyQuery.withKey(k("a")),
            PositionBound.at(Position.emptyPosition().withComponent("input", 0, 43)),
            new QueryConfig(false));
    assertThat(ahead.isFailure()).isTrue();
    QueryResult<byte[]> behind =
        store.query(
            KeyQuery.withKey(k("a")),
            PositionBound.at(Position.emptyPosition().withComponent("input", 0, 42)),
            new QueryConfig(false));
    assertThat(behind.isSuccess()).isTrue();
  }

  @Test
  @SuppressWarnings("unchecked")
  void readCommittedQueriesSeeOnlyCommittedDataWithItsPosition() {
    context.at("input", 0, 1);
    store.put(k("a"), v("1"));
    store.commit(Map.of(CHANGELOG, 0L));
    context.at("input", 0, 2);
    store.put(k("a"), v("2"));
    store.put(k("b"), v("new"));
    QueryConfig committed = new QueryConfig(false, IsolationLevel.READ_COMMITTED);

    QueryResult<byte[]> a =
        store.query(KeyQuery.withKey(k("a")), PositionBound.unbounded(), committed);
    assertThat(a.getResult()).isEqualTo(v("1"));
    assertThat(a.getPosition().getPartitionPositions("input")).containsExactly(entry(0, 1L));
    QueryResult<byte[]> b =
        store.query(KeyQuery.withKey(k("b")), PositionBound.unbounded(), committed);
    assertThat(b.isSuccess()).isTrue();
    assertThat(b.getResult()).isNull();
    QueryResult<KeyValueIterator<Bytes, byte[]>> range =
        store.query(RangeQuery.withNoBounds(), PositionBound.unbounded(), committed);
    assertThat(keys(range.getResult())).containsExactly("a");
    assertThat(range.getPosition().getPartitionPositions("input")).containsExactly(entry(0, 1L));
    QueryResult<byte[]> notYet =
        store.query(
            KeyQuery.withKey(k("a")),
            PositionBound.at(Position.emptyPosition().withComponent("input", 0, 2)),
            committed);
    assertThat(notYet.isFailure()).isTrue();

    QueryResult<byte[]> uncommitted =
        store.query(
            KeyQuery.withKey(k("a")),
            PositionBound.unbounded(),
            new QueryConfig(false, IsolationLevel.READ_UNCOMMITTED));
    assertThat(uncommitted.getResult()).isEqualTo(v("2"));
    assertThat(uncommitted.getPosition().getPartitionPositions("input"))
        .containsExactly(entry(0, 2L));

    ReadOnlyKeyValueStore<Bytes, byte[]> view = store.readOnly(IsolationLevel.READ_COMMITTED);
    assertThat(view.get(k("a"))).isEqualTo(v("1"));
    assertThat(view.get(k("b"))).isNull();
    assertThat(keys(view.all())).containsExactly("a");
    assertThat(keys(view.prefixScan("b", new StringSerializer()))).isEmpty();
    assertThat(store.readOnly(IsolationLevel.READ_UNCOMMITTED).get(k("b"))).isEqualTo(v("new"));
  }

  @Test
  void aStoreClosedDuringScansGivesTheReadersACleanError() throws Exception {
    ExecutorService readers = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 2_000; i++) {
          store.put(k("k" + i), v("v" + i));
        }
        store.commit(Map.of(CHANGELOG, (long) round));
        CountDownLatch scanning = new CountDownLatch(2);
        List<Future<Throwable>> outcomes = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
          boolean committedOnly = r == 0;
          outcomes.add(
              readers.submit(
                  () -> {
                    try {
                      ReadOnlyKeyValueStore<Bytes, byte[]> view =
                          committedOnly ? store.readOnly(IsolationLevel.READ_COMMITTED) : store;
                      scanning.countDown();
                      for (int pass = 0; pass < 1_000; pass++) {
                        try (KeyValueIterator<Bytes, byte[]> it = view.all()) {
                          while (it.hasNext()) {
                            it.next();
                          }
                        }
                        view.approximateNumEntries();
                        view.get(k("k" + pass));
                      }
                      return null;
                    } catch (RuntimeException e) {
                      return e;
                    }
                  }));
        }
        assertThat(scanning.await(30, TimeUnit.SECONDS)).isTrue();
        store.close();
        for (Future<Throwable> outcome : outcomes) {
          Throwable failure = outcome.get(60, TimeUnit.SECONDS);
          if (failure != null) {
            assertThat(failure)
                .as("round %d", round)
                .isInstanceOf(InvalidStateStoreException.class);
          }
        }
        store = new BackboneKeyValueStore("s");
        store.init(context, store);
      }
    } finally {
      readers.shutdownNow();
    }
  }

  @Test
  void committedKeyReadsDuringCommitsNeverClaimAPositionTheirValueDoesNotReflect()
      throws Exception {
    // Committed key reads take no batch lock. Value i is committed with position i, so every
    // answer whose position claims offset p must hold a value of at least p, and no answer may go
    // back. Every answer along the way is checked, not only the last.
    QueryConfig committed = new QueryConfig(false, IsolationLevel.READ_COMMITTED);
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService reader = Executors.newSingleThreadExecutor();
    try {
      Future<Long> answers =
          reader.submit(
              () -> {
                long checked = 0;
                long last = 0;
                while (!done.get() || checked == 0) {
                  QueryResult<byte[]> read =
                      store.query(KeyQuery.withKey(k("a")), PositionBound.unbounded(), committed);
                  byte[] bytes = read.getResult();
                  long value =
                      bytes == null ? 0 : Long.parseLong(new String(bytes, StandardCharsets.UTF_8));
                  Long claimed = read.getPosition().getPartitionPositions("input").get(0);
                  if (claimed != null && claimed > value) {
                    throw new AssertionError(
                        "answer " + checked + " claims position " + claimed + ", holds " + value);
                  }
                  if (value < last) {
                    throw new AssertionError("answer " + checked + " went back to " + value);
                  }
                  last = value;
                  checked++;
                }
                return checked;
              });
      for (int i = 1; i <= 3_000; i++) {
        context.at("input", 0, i);
        store.put(k("a"), v(Long.toString(i)));
        store.commit(Map.of(CHANGELOG, (long) i));
      }
      done.set(true);
      assertThat(answers.get(60, TimeUnit.SECONDS)).isPositive();
    } finally {
      reader.shutdownNow();
    }
  }

  @Test
  void positionSurvivesAReopen() {
    context.at("input", 3, 9);
    store.put(k("a"), v("1"));
    store.commit(Map.of(CHANGELOG, 0L));
    reopen();
    assertThat(store.getPosition().getPartitionPositions("input")).containsEntry(3, 9L);
  }

  @Test
  void rejectsNullKeys() {
    assertThatThrownBy(() -> store.put(null, v("1"))).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> store.get(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> store.delete(null)).isInstanceOf(NullPointerException.class);
  }
}
