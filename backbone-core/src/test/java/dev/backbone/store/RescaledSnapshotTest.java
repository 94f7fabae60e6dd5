package dev.backbone.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.rescale.SnapshotSplit;
import dev.backbone.routing.KeyToTask;
import dev.backbone.store.internals.BackboneKeyValueStore;
import dev.backbone.store.internals.BuiltSnapshots;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The data path of a rescale end to end on real Backbone stores: N stores, each holding the keys
 * the partitioner gives its task, committed and snapshotted; their snapshots split into M ({@link
 * SnapshotSplit}); one snapshot built per new task ({@link BuiltSnapshots}); each installed into a
 * fresh store of the new task exactly as a peer's snapshot is. Each new store must then hold
 * exactly its partition's keys with their values, and report the offset the plan gave it.
 */
class RescaledSnapshotTest {
  private static final long SEED = 4_12_2026L;
  private static final String NEW_CHANGELOG = "app-g1-s-changelog";

  @TempDir Path dir;

  @ParameterizedTest(name = "{0} tasks -> {1}")
  @CsvSource({"3, 5", "6, 2", "4, 4", "1, 7", "5, 1"})
  void storesBuiltFromASplitHoldExactlyTheirPartitionsKeysAtThePlannedOffset(int from, int to)
      throws Exception {
    Random random = new Random(SEED + from * 31L + to);
    Map<Bytes, byte[]> all = new HashMap<>();
    for (int i = 0; i < 2_000; i++) {
      byte[] value = new byte[1 + random.nextInt(40)];
      random.nextBytes(value);
      all.put(Bytes.wrap(("customer-" + random.nextInt(1_000_000)).getBytes()), value);
    }
    List<Path> sources = new ArrayList<>();
    for (int p = 0; p < from; p++) {
      TaskId task = new TaskId(0, p);
      try (BackboneKeyValueStore store = open("old-" + p, task)) {
        List<KeyValue<Bytes, byte[]>> mine = new ArrayList<>();
        for (Map.Entry<Bytes, byte[]> e : all.entrySet()) {
          if (KeyToTask.partition(e.getKey().get(), from) == p) {
            mine.add(KeyValue.pair(e.getKey(), e.getValue()));
          }
        }
        store.putAll(mine);
        store.commit(Map.of(new TopicPartition("app-s-changelog", p), 1_000L + p));
        sources.add(store.snapshot().directory());
      }
    }

    SnapshotSplit.Result split =
        SnapshotSplit.split(sources, to, dir.resolve("split"), (k, b) -> {});
    assertThat(split.keys()).isEqualTo(all.size());

    for (int p = 0; p < to; p++) {
      TaskId task = new TaskId(0, p);
      TopicPartition changelog = new TopicPartition(NEW_CHANGELOG, p);
      Optional<Path> file = split.targets().get(p).file();
      Snapshot built =
          BuiltSnapshots.build(
              dir.resolve("built"),
              "task-" + p,
              file.map(List::of).orElse(List.of()),
              "app",
              task,
              "s",
              Map.of(changelog, 41L),
              Instant.now());
      assertThat(built.manifest().offsetOf(NEW_CHANGELOG, p)).contains(41L);
      try (BackboneKeyValueStore fresh = open("new-" + p, task)) {
        fresh.install(built.directory(), Duration.ofDays(1));
        assertThat(fresh.committedOffset(changelog)).isEqualTo(41L);
        Map<Bytes, byte[]> held = new HashMap<>();
        try (KeyValueIterator<Bytes, byte[]> it = fresh.all()) {
          it.forEachRemaining(kv -> held.put(kv.key, kv.value));
        }
        int partition = p;
        Map<Bytes, byte[]> expected = new HashMap<>();
        all.forEach(
            (k, v) -> {
              if (KeyToTask.partition(k.get(), to) == partition) {
                expected.put(k, v);
              }
            });
        assertThat(held.keySet())
            .as("keys of new task %d, seed %d", p, SEED)
            .isEqualTo(expected.keySet());
        expected.forEach((k, v) -> assertThat(held.get(k)).as("value of %s", k).isEqualTo(v));
      }
    }
  }

  private BackboneKeyValueStore open(String name, TaskId task) {
    TestStoreContext context =
        new TestStoreContext(dir.resolve(name), task, StreamsConfig.AT_LEAST_ONCE);
    BackboneKeyValueStore store = new BackboneKeyValueStore("s");
    store.init(context, store);
    return store;
  }
}
