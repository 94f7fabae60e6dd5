package dev.backbone.rescale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterTry;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

/**
 * {@link SnapshotSplit} on random stores: N source snapshots holding the keys the producer's
 * partitioner sent to each of N partitions, split (or merged) into M. Whatever N, M and the keys,
 * the targets together hold exactly the sources' keys and values, each key once, in the target the
 * producer's own partitioner ({@code BuiltInPartitioner#partitionForKey}, Kafka 4.4.0) chooses
 * among M partitions, each file in strictly increasing key order; a target no key belongs to gets
 * no file. jqwik prints the seed of any failing try.
 */
class SnapshotSplitPropertyTest {
  private final List<Path> dirs = new ArrayList<>();

  @TempDir Path tempDir;

  @Property(tries = 60)
  void aSplitPutsEveryKeyOnceWithItsValueInTheProducersPartition(
      @ForAll @IntRange(min = 1, max = 9) int from,
      @ForAll @IntRange(min = 1, max = 17) int to,
      @ForAll @IntRange(min = 0, max = 400) int keyCount,
      @ForAll long seed)
      throws Exception {
    Path root = Files.createTempDirectory("split-prop");
    dirs.add(root);
    Random random = new Random(seed);
    Map<Bytes, byte[]> all = new HashMap<>();
    for (int i = 0; i < keyCount; i++) {
      byte[] key = new byte[random.nextInt(24)];
      random.nextBytes(key);
      byte[] value = new byte[random.nextInt(64)];
      random.nextBytes(value);
      all.put(Bytes.wrap(key), value);
    }
    List<Path> sources = new ArrayList<>();
    for (int p = 0; p < from; p++) {
      int partition = p;
      Map<Bytes, byte[]> mine = new TreeMap<>();
      all.forEach(
          (k, v) -> {
            if (BuiltInPartitioner.partitionForKey(k.get(), from) == partition) {
              mine.put(k, v);
            }
          });
      sources.add(store(root.resolve("source-" + p), mine));
    }

    SnapshotSplit.Result result =
        SnapshotSplit.splitPartitions(sources, to, root.resolve("out"), (k, b) -> {});

    assertThat(result.targets()).hasSize(to);
    assertThat(result.keys()).isEqualTo(all.size());
    Map<Bytes, byte[]> seen = new HashMap<>();
    for (SnapshotSplit.Target target : result.targets()) {
      List<byte[][]> entries =
          target.file().isPresent() ? SstEntries.read(target.file().get()) : List.of();
      assertThat(entries).hasSize((int) target.keys());
      assertThat(target.file().isPresent()).isEqualTo(target.keys() > 0);
      byte[] previous = null;
      for (byte[][] kv : entries) {
        assertThat(BuiltInPartitioner.partitionForKey(kv[0], to))
            .as("partition of a key in target %d", target.partition())
            .isEqualTo(target.partition());
        if (previous != null) {
          assertThat(Arrays.compareUnsigned(previous, kv[0])).isNegative();
        }
        previous = kv[0];
        assertThat(seen.put(Bytes.wrap(kv[0]), kv[1])).as("a key written twice").isNull();
      }
    }
    assertThat(seen.keySet()).isEqualTo(all.keySet());
    all.forEach((k, v) -> assertThat(seen.get(k)).as("value of %s", k).isEqualTo(v));
  }

  @Test
  void aKeyInTwoSourcesFailsTheSplitNamingBoth() throws Exception {
    byte[] key = {1, 2, 3};
    Path a = store(tempDir.resolve("a"), Map.of(Bytes.wrap(key), new byte[] {1}));
    Path b = store(tempDir.resolve("b"), Map.of(Bytes.wrap(key), new byte[] {2}));
    assertThatThrownBy(
            () -> SnapshotSplit.split(List.of(a, b), 3, tempDir.resolve("out"), (k, n) -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("010203")
        .hasMessageContaining(a.toString())
        .hasMessageContaining(b.toString());
  }

  @Test
  void aStoreNotKeyedByItsInputKeyIsRefusedNamingTheKeyAndWhereItBelongs() throws Exception {
    byte[] key = "customer-7".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int belongs = BuiltInPartitioner.partitionForKey(key, 2);
    // The key sits in the other partition's snapshot: the store is keyed by something else.
    Path holder = store(tempDir.resolve("holder"), Map.of(Bytes.wrap(key), new byte[] {7}));
    Path empty = store(tempDir.resolve("empty"), Map.of());
    List<Path> sources = belongs == 0 ? List.of(empty, holder) : List.of(holder, empty);
    assertThatThrownBy(
            () -> SnapshotSplit.splitPartitions(sources, 3, tempDir.resolve("out"), (k, n) -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not keyed by its input topic's key")
        .hasMessageContaining("sends it to partition " + belongs + " of 2");
    // The plain split only places keys, and does not check where they came from.
    assertThat(SnapshotSplit.split(sources, 3, tempDir.resolve("plain"), (k, n) -> {}).keys())
        .isEqualTo(1);
  }

  @Test
  void aTargetCountBelowOneOrNoSourceIsRefused() {
    assertThatThrownBy(() -> SnapshotSplit.split(List.of(tempDir), 0, tempDir, (k, b) -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 1 target");
    assertThatThrownBy(() -> SnapshotSplit.split(List.of(), 2, tempDir, (k, b) -> {}))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @AfterTry
  void deleteDirs() throws IOException {
    for (Path dir : dirs) {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    dirs.clear();
  }

  /** A RocksDB directory laid out as a Backbone store's: data and the metadata column family. */
  private static Path store(Path dir, Map<Bytes, byte[]> data) throws RocksDBException {
    RocksDB.loadLibrary();
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options =
            new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
        ColumnFamilyOptions cf = new ColumnFamilyOptions()) {
      List<ColumnFamilyDescriptor> descriptors =
          List.of(
              new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cf),
              new ColumnFamilyDescriptor("backbone-meta".getBytes(), cf));
      try (RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles)) {
        for (Map.Entry<Bytes, byte[]> e : data.entrySet()) {
          db.put(handles.get(0), e.getKey().get(), e.getValue());
        }
        db.put(handles.get(1), "offset/t/0".getBytes(), new byte[8]);
        handles.forEach(ColumnFamilyHandle::close);
      }
    }
    return dir;
  }
}
