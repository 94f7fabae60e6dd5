package dev.backbone.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.store.internals.BackboneKeyValueStore;
import dev.backbone.store.internals.MockKafkaProducers;
import dev.backbone.store.internals.TransactionReportingProducer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.state.KeyValueIterator;

/**
 * Random puts, deletes, transaction commits, commits that time out and are retried, aborts,
 * snapshots, crashes (close without commit) and installs under exactly-once, with Kafka Streams'
 * calls around each (post-commit after the transaction; a post-commit after the failed commit, as
 * {@code TaskManager#tryCloseCleanActiveTasks} makes; init then {@code committedOffset}): after
 * every step the store reads as the model's live state, and after every reopen or install its
 * committed data and offset equal the model as of the last commit (or the snapshot's). jqwik prints
 * the seed of a failing run.
 */
class StoreModelPropertyTest {
  private static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 0);

  enum Kind {
    PUT,
    DELETE,
    COMMIT,
    COMMIT_AFTER_TIMEOUT,
    ABORT,
    SNAPSHOT,
    CRASH,
    INSTALL
  }

  record Op(Kind kind, int key, int value) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Kind> kinds =
        Arbitraries.frequency(
            Tuple.of(40, Kind.PUT),
            Tuple.of(15, Kind.DELETE),
            Tuple.of(15, Kind.COMMIT),
            Tuple.of(4, Kind.COMMIT_AFTER_TIMEOUT),
            Tuple.of(3, Kind.ABORT),
            Tuple.of(4, Kind.SNAPSHOT),
            Tuple.of(4, Kind.CRASH),
            Tuple.of(3, Kind.INSTALL));
    return net.jqwik.api.Combinators.combine(
            kinds, Arbitraries.integers().between(0, 30), Arbitraries.integers().between(0, 999))
        .as(Op::new)
        .list()
        .ofMaxSize(80);
  }

  @Property(tries = 40)
  void storeEqualsTheModelAsOfTheLastCommit(@ForAll("ops") List<Op> ops) throws IOException {
    Path dir = Files.createTempDirectory("backbone-store-property");
    TestStoreContext context =
        new TestStoreContext(dir.resolve("task"), new TaskId(0, 0), StreamsConfig.EXACTLY_ONCE_V2);
    MockProducer<byte[], byte[]> kafka = MockKafkaProducers.create();
    TransactionReportingProducer producer = new TransactionReportingProducer(kafka);
    producer.initTransactions();
    BackboneKeyValueStore store = initialized(context);
    TreeMap<Bytes, byte[]> live = new TreeMap<>();
    TreeMap<Bytes, byte[]> committed = new TreeMap<>();
    Long committedOffset = null;
    long nextOffset = 0;
    Snapshot snapshot = null;
    TreeMap<Bytes, byte[]> atSnapshot = null;
    Long snapshotOffset = null;
    try {
      for (Op op : ops) {
        Bytes key = Bytes.wrap(new byte[] {(byte) op.key(), (byte) (op.key() * 7)});
        switch (op.kind()) {
          case PUT -> {
            byte[] value = ("v" + op.value()).getBytes();
            store.put(key, value);
            live.put(key, value);
            nextOffset = logged(producer, kafka, nextOffset);
          }
          case DELETE -> {
            store.delete(key);
            live.remove(key);
            nextOffset = logged(producer, kafka, nextOffset);
          }
          case COMMIT -> {
            if (kafka.transactionInFlight()) {
              producer.commitTransaction();
              store.commit(Map.of(CHANGELOG, nextOffset - 1));
              committed = new TreeMap<>(live);
              committedOffset = nextOffset - 1;
            }
          }
          case COMMIT_AFTER_TIMEOUT -> {
            if (kafka.transactionInFlight()) {
              kafka.commitTransactionException = new TimeoutException("EndTxn timed out");
              assertThatThrownBy(producer::commitTransaction).isInstanceOf(TimeoutException.class);
              kafka.commitTransactionException = null;
              store.commit(Map.of(CHANGELOG, nextOffset - 1));
              assertCommitted(store, committed);
              producer.commitTransaction();
              store.commit(Map.of(CHANGELOG, nextOffset - 1));
              committed = new TreeMap<>(live);
              committedOffset = nextOffset - 1;
            }
          }
          case ABORT -> {
            if (kafka.transactionInFlight()) {
              producer.abortTransaction(); // RecordCollectorImpl#closeDirty, then the close
              store.commit(Map.of(CHANGELOG, nextOffset - 1));
              store.close();
              store = initialized(context);
              live = new TreeMap<>(committed);
              assertEquals(store, committed, committedOffset);
            }
          }
          case SNAPSHOT -> {
            snapshot = store.snapshot(dir.resolve("snapshots"));
            atSnapshot = new TreeMap<>(committed);
            snapshotOffset = committedOffset;
            assertThat(snapshot.manifest().offsetOf(CHANGELOG.topic(), 0))
                .isEqualTo(java.util.Optional.ofNullable(snapshotOffset));
          }
          case CRASH -> {
            if (kafka.transactionInFlight()) {
              producer.abortTransaction(); // the broker aborts a dead producer's transaction
            }
            store.close();
            store = initialized(context);
            live = new TreeMap<>(committed);
            assertEquals(store, committed, committedOffset);
          }
          case INSTALL -> {
            if (snapshot != null && !kafka.transactionInFlight()) {
              store.close();
              store = new BackboneKeyValueStore("s");
              store.init(context, store);
              if (snapshot.manifest().dataAsOf() == null) {
                Path snapshotDir = snapshot.directory();
                BackboneKeyValueStore target = store;
                assertThatThrownBy(() -> target.install(snapshotDir, Duration.ofDays(1)))
                    .hasMessageContaining("does not say when its data was current");
              } else {
                store.install(snapshot.directory(), Duration.ofDays(1));
                committed = new TreeMap<>(atSnapshot);
                committedOffset = snapshotOffset;
              }
              live = new TreeMap<>(committed);
              assertEquals(store, committed, committedOffset);
            }
          }
        }
        assertEquals(store, live, null);
      }
    } finally {
      store.close();
      producer.close();
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** init(), then Kafka Streams reads the offset ({@code ProcessorStateManager}). */
  private static BackboneKeyValueStore initialized(TestStoreContext context) {
    BackboneKeyValueStore store = new BackboneKeyValueStore("s");
    store.init(context, store);
    store.committedOffset(CHANGELOG);
    return store;
  }

  /** The change-logging layer's record of a write; its send begins the transaction. */
  private static long logged(
      TransactionReportingProducer producer, MockProducer<byte[], byte[]> kafka, long next) {
    if (!kafka.transactionInFlight()) {
      producer.beginTransaction();
    }
    producer.send(
        new ProducerRecord<>(CHANGELOG.topic(), CHANGELOG.partition(), new byte[1], null));
    return next + 1;
  }

  private static void assertCommitted(BackboneKeyValueStore store, TreeMap<Bytes, byte[]> model) {
    TreeMap<Bytes, String> actual = new TreeMap<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.readOnly(IsolationLevel.READ_COMMITTED).all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        actual.put(kv.key, new String(kv.value));
      }
    }
    TreeMap<Bytes, String> expected = new TreeMap<>();
    model.forEach((k, v) -> expected.put(k, new String(v)));
    assertThat(actual).as("committed data").isEqualTo(expected);
  }

  private static void assertEquals(
      BackboneKeyValueStore store, TreeMap<Bytes, byte[]> model, Long offset) {
    TreeMap<Bytes, String> actual = new TreeMap<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        actual.put(kv.key, new String(kv.value));
      }
    }
    TreeMap<Bytes, String> expected = new TreeMap<>();
    model.forEach((k, v) -> expected.put(k, new String(v)));
    assertThat(actual).isEqualTo(expected);
    for (Map.Entry<Bytes, byte[]> e : model.entrySet()) {
      assertThat(store.get(e.getKey())).isEqualTo(e.getValue());
    }
    if (offset != null) {
      assertThat(store.committedOffset(CHANGELOG)).isEqualTo(offset);
    }
  }
}
