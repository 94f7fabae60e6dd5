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
 * exactly its partition's keys with their values, and report the offset the plan gave it; also when
 * the split is done where the data is, on two nodes, and a new task is built from both nodes'
 * partial files, whose key ranges interleave.
 */
class RescaledSnapshotTest {
  private static final long SEED = 4_12_2026L;
  private static final String NEW_CHANGELOG = "app-g1-s-changelog";

  @TempDir Path dir;

  @ParameterizedTest(name = "{0} tasks -> {1}")
  @CsvSource({"3, 5", "6, 2", "4, 4", "1, 7", "5, 1"})
  void storesBuiltFromASplitHoldExactlyTheirPartitionsKeysAtThePlannedOffset(int from, int to)
      throws Exception {
    rescale(from, to, 1);
  }

  @ParameterizedTest(name = "{0} tasks on two nodes -> {1}")
  @CsvSource({"4, 6", "5, 2"})
  void partialFilesFromTwoNodesBuildEachNewTaskTogether(int from, int to) throws Exception {
    rescale(from, to, 2);
  }

  /** Rescales 2,000 random keys from {@code from} to {@code to} tasks held by {@code nodes}. */
  private void rescale(int from, int to, int nodes) throws Exception {
    long seed = SEED + from * 31L + to * 7L + nodes;
    Random random = new Random(seed);
    Map<Bytes, byte[]> all = new HashMap<>();
    for (int i = 0; i < 2_000; i++) {
      byte[] value = new byte[1 + random.nextInt(40)];
      random.nextBytes(value);
      all.put(Bytes.wrap(("customer-" + random.nextInt(1_000_000)).getBytes()), value);
    }
    List<List<Path>> byNode = new ArrayList<>();
    for (int n = 0; n < nodes; n++) {
      byNode.add(new ArrayList<>());
    }
    for (int p = 0; p < from; p++) {
      try (BackboneKeyValueStore store = open("old-" + p, new TaskId(0, p))) {
        List<KeyValue<Bytes, byte[]>> mine = new ArrayList<>();
        partitionOf(all, from, p).forEach((k, v) -> mine.add(KeyValue.pair(k, v)));
        store.putAll(mine);
        store.commit(Map.of(new TopicPartition("app-s-changelog", p), 1_000L + p));
        byNode.get(p % nodes).add(store.snapshot().directory());
      }
    }
    List<SnapshotSplit.Result> splits = new ArrayList<>();
    for (int n = 0; n < nodes; n++) {
      splits.add(SnapshotSplit.split(byNode.get(n), to, dir.resolve("split-" + n), (k, b) -> {}));
    }
    assertThat(splits.stream().mapToLong(SnapshotSplit.Result::keys).sum()).isEqualTo(all.size());

    for (int p = 0; p < to; p++) {
      TaskId task = new TaskId(0, p);
      TopicPartition changelog = new TopicPartition(NEW_CHANGELOG, p);
      List<Path> files = new ArrayList<>();
      for (SnapshotSplit.Result split : splits) {
        split.targets().get(p).file().ifPresent(files::add);
      }
      Snapshot built =
          BuiltSnapshots.build(
              dir.resolve("built"),
              "task-" + p,
              files,
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
        Map<Bytes, byte[]> expected = partitionOf(all, to, p);
        assertThat(held.keySet())
            .as("keys of new task %d, seed %d", p, seed)
            .isEqualTo(expected.keySet());
        expected.forEach((k, v) -> assertThat(held.get(k)).as("value of %s", k).isEqualTo(v));
      }
    }
  }

  /** The keys the partitioner gives partition {@code p} of {@code partitions}. */
  private static Map<Bytes, byte[]> partitionOf(Map<Bytes, byte[]> all, int partitions, int p) {
    Map<Bytes, byte[]> out = new HashMap<>();
    all.forEach(
        (k, v) -> {
          if (KeyToTask.partition(k.get(), partitions) == p) {
            out.put(k, v);
          }
        });
    return out;
  }

  private BackboneKeyValueStore open(String name, TaskId task) {
    TestStoreContext context =
        new TestStoreContext(dir.resolve(name), task, StreamsConfig.AT_LEAST_ONCE);
    BackboneKeyValueStore store = new BackboneKeyValueStore("s");
    store.init(context, store);
    return store;
  }
}
