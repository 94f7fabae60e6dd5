package dev.backbone.store;

import static dev.backbone.store.BackboneKeyValueStoreTest.k;
import static dev.backbone.store.BackboneKeyValueStoreTest.v;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
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
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under exactly-once a store applies its writes only with the commit of the transaction they belong
 * to. Each test drives the store through a call sequence Kafka Streams 4.4.0 makes (read in its
 * sources; named in each test), with the thread's producer a {@link TransactionReportingProducer}
 * over Kafka's {@link MockProducer}: it leaves a transaction open when {@code commitTransaction()}
 * throws, so the same call can be retried, as {@code KafkaProducer} allows after a timeout. The
 * store is real RocksDB.
 */
class TransactionCommitTest {
  static final TopicPartition CHANGELOG = BackboneKeyValueStoreTest.CHANGELOG;

  @TempDir Path dir;
  TestStoreContext context;
  BackboneKeyValueStore store;
  MockProducer<byte[], byte[]> kafka;
  TransactionReportingProducer producer;
  long nextOffset;

  @BeforeEach
  void open() {
    context = new TestStoreContext(dir, new TaskId(0, 0), StreamsConfig.EXACTLY_ONCE_V2);
    kafka = MockKafkaProducers.create();
    producer = new TransactionReportingProducer(kafka);
    producer.initTransactions();
    store = initialized();
  }

  @AfterEach
  void close() {
    if (!kafka.closed()) {
      producer.close();
    }
    store.close();
  }

  /** init(), then {@code ProcessorStateManager#initializeStoreOffsets} reads the offset. */
  BackboneKeyValueStore initialized() {
    BackboneKeyValueStore s = new BackboneKeyValueStore("s");
    s.init(context, s);
    s.committedOffset(CHANGELOG);
    return s;
  }

  void reopen() {
    store.close();
    store = initialized();
  }

  /**
   * A processor's write: the store, then the change-logging layer's record, whose send begins the
   * thread's transaction ({@code StreamsProducer#maybeBeginTransaction}).
   */
  void write(String key, String value) {
    store.put(k(key), v(value));
    if (!kafka.transactionInFlight()) {
      producer.beginTransaction();
    }
    producer.send(new ProducerRecord<>(CHANGELOG.topic(), CHANGELOG.partition(), v(key), v(value)));
    nextOffset++;
  }

  /** {@code StreamTask#postCommit}: commit(Map) with the record collector's last offset. */
  void postCommit() {
    store.commit(Map.of(CHANGELOG, nextOffset - 1));
  }

  /** A transaction that committed, a=1, then its post-commit. */
  void committedFirstTransaction() {
    write("a", "1");
    producer.commitTransaction();
    postCommit();
  }

  void commitTimesOut() {
    kafka.commitTransactionException = new TimeoutException("EndTxn timed out");
    assertThatThrownBy(producer::commitTransaction).isInstanceOf(TimeoutException.class);
    kafka.commitTransactionException = null;
  }

  byte[] committedValue(String key) {
    return store.readOnly(IsolationLevel.READ_COMMITTED).get(k(key));
  }

  @Test
  void appliesTheWritesAtEveryTransactionCommitWithTheLastChangelogOffset() {
    // TaskExecutor#commitTasksAndMaybeUpdateCommittableOffsets: commitOffsetsOrTransaction, then
    // postCommit(false) for every task that needed a commit.
    write("a", "1");
    write("b", "2");
    producer.commitTransaction();
    postCommit();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(1L);

    store.delete(k("a"));
    producer.beginTransaction();
    nextOffset++;
    producer.commitTransaction();
    postCommit();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(2L);

    reopen(); // a close without commit, as after kill -9
    assertThat(store.get(k("a"))).isNull();
    assertThat(store.get(k("b"))).isEqualTo(v("2"));
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(2L);
  }

  @Test
  void aTimedOutCommitKeepsTheWritesUntilTheRetryCommitsThem() {
    committedFirstTransaction();
    write("b", "2");
    write("a", "changed");
    // TaskExecutor#commitOffsetsOrTransaction: the timeout marks the tasks with offsets corrupted;
    // no post-commit. TaskManager#handleCorruption then retries the commit for the other tasks and
    // post-commits them.
    commitTimesOut();
    assertThat(store.get(k("b"))).as("the processor still reads its writes").isEqualTo(v("2"));
    assertThat(committedValue("a")).isEqualTo(v("1"));
    assertThat(store.snapshot(dir.resolve("snaps")).manifest().offsetOf(CHANGELOG.topic(), 0))
        .as("a snapshot meanwhile holds the last committed pair")
        .contains(0L);

    producer.commitTransaction();
    postCommit();
    assertThat(committedValue("b")).isEqualTo(v("2"));
    assertThat(committedValue("a")).isEqualTo(v("changed"));
    reopen();
    assertThat(store.get(k("b"))).isEqualTo(v("2"));
    assertThat(store.get(k("a"))).isEqualTo(v("changed"));
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(2L);
  }

  @Test
  void aPostCommitAfterAFailedCommitNeverPersistsTheWrites() {
    committedFirstTransaction();
    write("b", "2");
    // TaskManager#tryCloseCleanActiveTasks: the commit throws, the tasks go to the dirty list, and
    // postCommit(true) still runs for every one of them before closeTaskDirty (no wipe: the
    // stores are transactional).
    commitTimesOut();
    postCommit();
    assertThat(committedValue("b")).isNull();
    assertThatThrownBy(() -> store.snapshot(dir.resolve("snaps")))
        .isInstanceOf(RetriableBackboneException.class)
        .hasMessageContaining("outcome");
    reopen();
    assertThat(store.get(k("b"))).isNull();
    assertThat(store.get(k("a"))).isEqualTo(v("1"));
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(0L);
  }

  @Test
  void aPostCommitWithAnOpenTransactionNeverPersistsTheWrites() {
    committedFirstTransaction();
    write("b", "2");
    // TaskManager#handleRevocation: sendOffsetsToTransaction threw, so commitTransaction never
    // ran, and revoked tasks without offsets are still post-committed.
    postCommit();
    reopen();
    assertThat(store.get(k("b"))).isNull();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(0L);
  }

  @Test
  void anAbortedTransactionsWritesAreDropped() {
    committedFirstTransaction();
    write("b", "2");
    write("a", "changed");
    // RecordCollectorImpl#closeDirty aborts; a post-commit after it must not apply the writes.
    producer.abortTransaction();
    postCommit();
    assertThat(store.get(k("b"))).isNull();
    assertThat(store.get(k("a"))).isEqualTo(v("1"));
    reopen();
    assertThat(store.get(k("b"))).isNull();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(0L);
  }

  @Test
  void aCorruptedChangelogDropsTheWritesAndTheStoreIsRebuilt() {
    committedFirstTransaction();
    write("b", "2");
    // TaskManager#closeDirtyAndRevive(markAsCorrupted=true): markChangelogAsCorrupted, then
    // postCommit(true), which commits a corrupted store with no offset; then closeDirty.
    store.commit(Map.of());
    assertThat(store.committedOffset(CHANGELOG)).isNull();
    assertThatThrownBy(() -> store.snapshot(dir.resolve("snaps")))
        .isInstanceOf(RetriableBackboneException.class)
        .hasMessageContaining("dirty");
    reopen();
    assertThat(store.get(k("a"))).as("emptied, to be restored from the changelog").isNull();
    assertThat(store.committedOffset(CHANGELOG)).isNull();
  }

  @Test
  void writesSpanningTwoTransactionsAreNeverAppliedAsOne() {
    committedFirstTransaction();
    write("b", "2");
    producer.commitTransaction(); // a transaction the store was not post-committed with
    write("c", "3");
    producer.commitTransaction();
    postCommit();
    assertThat(store.committedOffset(CHANGELOG)).isNull();
    reopen();
    assertThat(store.get(k("a"))).isNull();
    assertThat(store.get(k("c"))).isNull();
  }

  @Test
  void aTransactionWithoutWritesToTheStoreKeepsTheStoredPairAndAdvancesNothing() {
    committedFirstTransaction();
    producer.beginTransaction();
    producer.commitTransaction();
    postCommit(); // the record collector still names the store's last record
    reopen();
    assertThat(store.get(k("a"))).isEqualTo(v("1"));
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(0L);
  }

  @Test
  void anUnloggedStoreAppliesItsWritesAtEveryCommit() {
    store.close();
    context =
        new TestStoreContext(
            dir.resolve("unlogged"), new TaskId(0, 0), StreamsConfig.EXACTLY_ONCE_V2);
    store = new BackboneKeyValueStore("s");
    store.init(context, store); // no committedOffset(): Kafka Streams asks only logged stores
    store.put(k("a"), v("1"));
    store.commit(Map.of());
    assertThat(committedValue("a")).isEqualTo(v("1"));
  }

  @Test
  void aThreadWhoseProducerNeverReportedIsTakenAtKafkaStreamsWord() throws Exception {
    // TopologyTestDriver drives its own MockProducer, which no client supplier wraps.
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try {
      thread
          .submit(
              () -> {
                store.put(k("a"), v("1"));
                store.commit(Map.of(CHANGELOG, 0L));
              })
          .get(30, TimeUnit.SECONDS);
      assertThat(committedValue("a")).isEqualTo(v("1"));
    } finally {
      thread.shutdownNow();
    }
  }

  @Test
  void exactlyOnceWithoutTheReportingClientSupplierIsRefusedAtInit() {
    TestStoreContext plain =
        new TestStoreContext(dir.resolve("plain"), new TaskId(0, 0), StreamsConfig.EXACTLY_ONCE_V2);
    plain.configs.remove(StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG);
    BackboneKeyValueStore s = new BackboneKeyValueStore("s");
    assertThatThrownBy(() -> s.init(plain, s))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining(
            StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG
                + "="
                + BackboneClientSupplier.class.getName());
  }

  @Test
  void exactlyOnceWithoutTransactionalStateStoresIsRefusedAtInit() {
    TestStoreContext plain =
        new TestStoreContext(dir.resolve("plain"), new TaskId(0, 0), StreamsConfig.EXACTLY_ONCE_V2);
    plain.configs.remove(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG);
    BackboneKeyValueStore s = new BackboneKeyValueStore("s");
    assertThatThrownBy(() -> s.init(plain, s))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG + "=true");
  }

  @Test
  void underAtLeastOnceEveryCommitAppliesWhateverTheTransactions() {
    store.close();
    context = new TestStoreContext(dir, new TaskId(0, 0), StreamsConfig.AT_LEAST_ONCE);
    store = initialized();
    write("a", "1");
    producer.abortTransaction();
    postCommit();
    assertThat(committedValue("a")).isEqualTo(v("1"));
  }

  @Test
  void aSnapshotBetweenTransactionsHoldsTheLastCommittedOffset() {
    write("a", "1");
    write("a", "2");
    producer.commitTransaction();
    postCommit();
    write("b", "2");
    Snapshot snapshot = store.snapshot(dir.resolve("snaps"));
    assertThat(snapshot.manifest().changelogOffsets())
        .containsExactly(new SnapshotManifest.ChangelogOffset(CHANGELOG.topic(), 0, 1L));
    assertThat(snapshot.manifest().dataAsOf()).isNotNull();
  }
}
