package dev.backbone.store;

import static dev.backbone.store.BackboneKeyValueStoreTest.k;
import static dev.backbone.store.BackboneKeyValueStoreTest.v;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.store.internals.BackboneKeyValueStore;
import dev.backbone.store.internals.MockKafkaProducers;
import dev.backbone.store.internals.TransactionReportingProducer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under exactly-once a store applies its writes when the thread's transaction commits, with the
 * offset of the last record the transaction wrote to its changelog, and drops them when it aborts.
 * The producer is Kafka's {@link MockProducer} (send callbacks with per-partition offsets); the
 * store is real RocksDB.
 */
class TransactionCommitTest {
  static final TopicPartition CHANGELOG = BackboneKeyValueStoreTest.CHANGELOG;

  @TempDir Path dir;
  TestStoreContext context;
  BackboneKeyValueStore store;
  MockProducer<byte[], byte[]> kafka;
  TransactionReportingProducer producer;

  @BeforeEach
  void open() {
    context = new TestStoreContext(dir, new TaskId(0, 0), StreamsConfig.EXACTLY_ONCE_V2);
    context.configs.put(StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG, BackboneClientSupplier.class);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
    kafka = MockKafkaProducers.create();
    producer = new TransactionReportingProducer(kafka);
    producer.initTransactions();
  }

  @AfterEach
  void close() {
    producer.close();
    store.close();
  }

  void reopen() {
    store.close();
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
  }

  /** What the change-logging layer does after a write: one record to the changelog. */
  void logged(TopicPartition tp) {
    producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), v("k"), v("v")), null);
  }

  /** A first transaction: a=1, one changelog record at offset 0. */
  void committedFirstTransaction() {
    producer.beginTransaction();
    store.put(k("a"), v("1"));
    logged(CHANGELOG);
    producer.commitTransaction();
  }

  @Test
  void appliesTheWritesAtEveryTransactionCommitWithTheLastChangelogOffset() {
    producer.beginTransaction();
    store.put(k("a"), v("1"));
    logged(CHANGELOG);
    store.put(k("b"), v("2"));
    logged(CHANGELOG);
    logged(new TopicPartition("app-s-changelog", 1)); // another task's partition
    producer.commitTransaction();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(1L);

    producer.beginTransaction();
    store.delete(k("a"));
    logged(CHANGELOG);
    producer.commitTransaction();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(2L);

    reopen(); // a close without commit(Map), as after kill -9
    assertThat(store.get(k("a"))).isNull();
    assertThat(store.get(k("b"))).isEqualTo(v("2"));
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(2L);
  }

  @Test
  void abortedTransactionWritesNeverReachRocksDb() {
    committedFirstTransaction();

    producer.beginTransaction();
    store.put(k("b"), v("2"));
    store.put(k("a"), v("changed"));
    logged(CHANGELOG);
    producer.abortTransaction();
    assertThat(store.get(k("b"))).isNull();
    assertThat(store.get(k("a"))).isEqualTo(v("1"));

    // Kafka Streams then commits the corrupted task's stores with no offset and closes them dirty.
    store.commit(Map.of());
    reopen();
    assertThat(store.get(k("b"))).isNull();
    assertThat(store.get(k("a"))).isEqualTo(v("1"));
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(0L);
  }

  @Test
  void aFailedCommitDropsTheWritesAndKeepsTheLastCommittedOffset() {
    committedFirstTransaction();

    producer.beginTransaction();
    store.put(k("b"), v("2"));
    logged(CHANGELOG);
    kafka.commitTransactionException = new TimeoutException("commit timed out");
    assertThatThrownBy(producer::commitTransaction).isInstanceOf(TimeoutException.class);
    assertThat(store.get(k("b"))).isNull();
    reopen();
    assertThat(store.get(k("b"))).isNull();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(0L);
  }

  @Test
  void aProducerClosedInsideATransactionDropsItsWrites() {
    producer.beginTransaction();
    store.put(k("a"), v("1"));
    logged(CHANGELOG);
    producer.close();
    assertThat(store.get(k("a"))).isNull();
  }

  @Test
  void aTransactionThatWroteNoChangelogRecordKeepsTheStoredOffset() {
    committedFirstTransaction();

    producer.beginTransaction();
    store.put(k("b"), v("2")); // e.g. a store with logging disabled
    producer.commitTransaction();
    reopen();
    assertThat(store.get(k("b"))).isEqualTo(v("2"));
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(0L);
  }

  @Test
  void aCommitAppliesOnlyTheStoresTheCommittingThreadWrote() throws Exception {
    TestStoreContext otherContext =
        new TestStoreContext(dir.resolve("other"), new TaskId(0, 1), StreamsConfig.EXACTLY_ONCE_V2);
    BackboneKeyValueStore other = new BackboneKeyValueStore("s");
    other.init(otherContext, other);
    ExecutorService otherThread = Executors.newSingleThreadExecutor();
    try {
      otherThread.submit(() -> other.put(k("x"), v("9"))).get(30, TimeUnit.SECONDS);
      producer.beginTransaction();
      store.put(k("a"), v("1"));
      logged(CHANGELOG);
      logged(new TopicPartition("app-s-changelog", 1));
      producer.commitTransaction();
      assertThat(store.committedOffset(CHANGELOG)).isEqualTo(0L);
      assertThat(other.committedOffset(new TopicPartition("app-s-changelog", 1))).isNull();
      assertThat(other.get(k("x"))).isEqualTo(v("9")); // still pending in its batch
    } finally {
      otherThread.shutdown();
      other.close();
    }
  }

  @Test
  void underAtLeastOnceTransactionsDoNotTouchTheStore() {
    store.close();
    context = new TestStoreContext(dir, new TaskId(0, 0), StreamsConfig.AT_LEAST_ONCE);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
    producer.beginTransaction();
    store.put(k("a"), v("1"));
    logged(CHANGELOG);
    producer.abortTransaction();
    assertThat(store.get(k("a"))).isEqualTo(v("1"));
    assertThat(store.committedOffset(CHANGELOG)).isNull();
  }

  @Test
  void aSnapshotBetweenTransactionsHoldsTheLastCommittedOffset() {
    producer.beginTransaction();
    store.put(k("a"), v("1"));
    logged(CHANGELOG);
    logged(CHANGELOG);
    producer.commitTransaction();
    producer.beginTransaction();
    store.put(k("b"), v("2"));
    Snapshot snapshot = store.snapshot(dir.resolve("snaps"));
    assertThat(snapshot.manifest().changelogOffsets())
        .containsExactly(new SnapshotManifest.ChangelogOffset(CHANGELOG.topic(), 0, 1L));
  }
}
