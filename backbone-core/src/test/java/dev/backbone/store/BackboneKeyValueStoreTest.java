package dev.backbone.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.store.internals.BackboneKeyValueStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.processor.BatchingStateRestoreCallback;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.RangeQuery;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KeyValueStore contract, reads of uncommitted writes, offsets and IQv2 of the store. */
class BackboneKeyValueStoreTest {
  static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 0);

  @TempDir Path dir;
  TestStoreContext context;
  BackboneKeyValueStore store;

  @BeforeEach
  void open() {
    context = new TestStoreContext(dir, new TaskId(0, 0), StreamsConfig.EXACTLY_ONCE_V2);
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

  private void openAtLeastOnceWithBoundAndOffset(long maxUncommittedBytes, long offset) {
    store.close();
    context = new TestStoreContext(dir, new TaskId(0, 0), StreamsConfig.AT_LEAST_ONCE);
    context.configs.put(BackboneKeyValueStore.MAX_UNCOMMITTED_BYTES_CONFIG, maxUncommittedBytes);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
    store.commit(Map.of(CHANGELOG, offset));
  }

  @Test
  void underAtLeastOnceALargeBatchIsWrittenEarly() {
    openAtLeastOnceWithBoundAndOffset(1000L, 1L);
    for (int i = 0; i < 50; i++) {
      store.put(k("k" + i), new byte[100]);
    }
    reopen();
    assertThat(store.get(k("k0"))).isNotNull();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(1L);
  }

  @Test
  void aKeyRewrittenBetweenCommitsCountsOnceTowardsTheBound() {
    openAtLeastOnceWithBoundAndOffset(1000L, 1L);
    for (int i = 0; i < 50; i++) {
      store.put(k("hot"), new byte[100]);
    }
    // One entry of ~200 B, far below the bound: nothing was written early, so a crash loses it.
    reopen();
    assertThat(store.get(k("hot"))).isNull();
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
    context.configs.put(BackboneKeyValueStore.MAX_UNCOMMITTED_BYTES_CONFIG, 1000L);
    store.init(context, store);
    for (int i = 0; i < 50; i++) {
      store.put(k("k" + i), new byte[100]);
    }
    assertThat(metric("backbone-dirty")).as("written early under exactly-once").isEqualTo(1.0);
    store.commit(Map.of(CHANGELOG, 60L));
    assertThat(metric("backbone-dirty")).isEqualTo(0.0);
    assertThat(metric("backbone-committed-offset")).isEqualTo(60.0);
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
  void underExactlyOnceALargeBatchMakesTheStoreDirtyUntilCommit() {
    store.close();
    context.configs.put(BackboneKeyValueStore.MAX_UNCOMMITTED_BYTES_CONFIG, 1000L);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
    store.commit(Map.of(CHANGELOG, 1L));
    for (int i = 0; i < 50; i++) {
      store.put(k("k" + i), new byte[100]);
    }
    assertThat(store.committedOffset(CHANGELOG)).isNull();
    assertThatThrownBy(() -> store.snapshot(dir.resolve("snaps")))
        .hasMessageContaining("exactly-once");
    store.commit(Map.of(CHANGELOG, 60L));
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(60L);
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
