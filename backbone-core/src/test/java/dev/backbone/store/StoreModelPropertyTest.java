package dev.backbone.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.store.internals.BackboneKeyValueStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.state.KeyValueIterator;

/**
 * Random puts, deletes, commits, snapshots, crashes (close without commit) and installs: after
 * every reopen or install the store equals the model as of the last commit (or the snapshot's
 * commit), with that commit's offset. jqwik prints the seed of a failing run.
 */
class StoreModelPropertyTest {
  private static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 0);

  enum Kind {
    PUT,
    DELETE,
    COMMIT,
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
    context.configs.put(BackboneKeyValueStore.MAX_UNCOMMITTED_BYTES_CONFIG, 1_000_000L);
    BackboneKeyValueStore store = new BackboneKeyValueStore("s");
    store.init(context, store);
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
          }
          case DELETE -> {
            store.delete(key);
            live.remove(key);
          }
          case COMMIT -> {
            nextOffset += 1 + op.value();
            store.commit(Map.of(CHANGELOG, nextOffset));
            committed = new TreeMap<>(live);
            committedOffset = nextOffset;
          }
          case SNAPSHOT -> {
            snapshot = store.snapshot(dir.resolve("snapshots"));
            atSnapshot = new TreeMap<>(committed);
            snapshotOffset = committedOffset;
            assertThat(snapshot.manifest().offsetOf(CHANGELOG.topic(), 0))
                .isEqualTo(java.util.Optional.ofNullable(snapshotOffset));
          }
          case CRASH -> {
            store.close();
            store = new BackboneKeyValueStore("s");
            store.init(context, store);
            live = new TreeMap<>(committed);
            assertEquals(store, committed, committedOffset);
          }
          case INSTALL -> {
            if (snapshot != null) {
              store.install(snapshot.directory());
              committed = new TreeMap<>(atSnapshot);
              committedOffset = snapshotOffset;
              live = new TreeMap<>(committed);
              assertEquals(store, committed, committedOffset);
            }
          }
        }
        assertEquals(store, live, null);
      }
    } finally {
      store.close();
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
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
