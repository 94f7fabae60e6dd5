package dev.backbone.bench.snapshot;

import dev.backbone.bench.BenchReport;
import dev.backbone.store.BackboneStores;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotStore;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * How long {@code snapshot()} takes as a store grows. For each size, a Backbone store is filled
 * through its own put/commit path with incompressible 1 KiB values, then:
 *
 * <ul>
 *   <li><b>first</b> snapshot: memtable flush + hard links + a checksum of every file (nothing
 *       cached yet) — the one-off cost after a node starts;
 *   <li><b>steady</b> snapshot: after 10,000 more committed writes, the median of three — flush of
 *       the new writes, hard links, checksums of the new files only. This is the figure that should
 *       stay flat as the store grows;
 *   <li>baseline <b>copy</b>: copying the same files byte for byte, what a snapshot costs without
 *       checkpoints (and it would need writes stopped to be consistent).
 * </ul>
 */
public final class SnapshotBench {
  static final int VALUE_BYTES = 1024;
  private static final int COMMIT_EVERY = 10_000;
  private static final TopicPartition CHANGELOG = new TopicPartition("bench-snap-changelog", 0);

  /** One measured size. */
  public record Result(
      long targetBytes,
      long storeBytes,
      int files,
      long firstMillis,
      long steadyMillis,
      long copyMillis) {}

  private SnapshotBench() {}

  /**
   * Runs every size and prints the report.
   *
   * @param sizes target store sizes in bytes
   * @param out where the table and JSON line go
   */
  public static List<Result> run(List<Long> sizes, PrintStream out) throws IOException {
    List<Result> results = new ArrayList<>();
    for (long size : sizes) {
      out.printf("filling a %d MiB store ...%n", size >> 20);
      results.add(measure(size));
    }
    report(results).print(out);
    return results;
  }

  static BenchReport report(List<Result> results) {
    BenchReport report =
        new BenchReport(
            "snapshot",
            "copying the store's files byte for byte (a snapshot without RocksDB checkpoints)");
    for (Result r : results) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("store_mib", r.storeBytes() >> 20);
      row.put("files", r.files());
      row.put("first_ms", r.firstMillis());
      row.put("steady_ms", r.steadyMillis());
      row.put("copy_ms", r.copyMillis());
      row.put("copy_over_steady", (double) r.copyMillis() / Math.max(1, r.steadyMillis()));
      report.row(row);
    }
    if (!results.isEmpty()) {
      Result largest = results.get(results.size() - 1);
      report.summary("steady_ms_largest", largest.steadyMillis());
      report.summary("store_bytes_largest", largest.storeBytes());
    }
    return report;
  }

  private static Result measure(long targetBytes) throws IOException {
    Path dir = Files.createTempDirectory("backbone-snapshot-bench");
    try {
      Properties props = new Properties();
      props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bench");
      props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
      props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
      MockProcessorContext<Object, Object> context =
          new MockProcessorContext<>(props, new TaskId(0, 0), dir.resolve("state").toFile());
      KeyValueStore<Bytes, byte[]> kv = BackboneStores.persistentKeyValueStore("s").get();
      kv.init(context.getStateStoreContext(), kv);
      try {
        SnapshotStore snapshots = (SnapshotStore) kv;
        SplittableRandom random = new SplittableRandom(7);
        long keys = targetBytes / VALUE_BYTES;
        long offset = write(kv, random, 0, keys, 0);

        Path parent = Files.createDirectories(dir.resolve("snapshots"));
        long t0 = System.nanoTime();
        Snapshot first = snapshots.snapshot(parent);
        long firstMillis = (System.nanoTime() - t0) / 1_000_000;

        long[] steady = new long[3];
        Snapshot last = first;
        for (int i = 0; i < steady.length; i++) {
          offset = write(kv, random, keys + i * (long) COMMIT_EVERY, COMMIT_EVERY, offset);
          long t = System.nanoTime();
          last = snapshots.snapshot(parent);
          steady[i] = (System.nanoTime() - t) / 1_000_000;
        }
        java.util.Arrays.sort(steady);

        long copyMillis = copy(last, dir.resolve("copy"));
        SnapshotManifest m = last.manifest();
        long bytes = m.files().stream().mapToLong(SnapshotManifest.SnapshotFile::size).sum();
        return new Result(targetBytes, bytes, m.files().size(), firstMillis, steady[1], copyMillis);
      } finally {
        kv.close();
      }
    } finally {
      deleteRecursively(dir);
    }
  }

  private static long write(
      KeyValueStore<Bytes, byte[]> kv,
      SplittableRandom random,
      long from,
      long count,
      long offset) {
    byte[] value = new byte[VALUE_BYTES];
    for (long i = 0; i < count; i++) {
      random.nextBytes(value);
      kv.put(Bytes.wrap(ByteBuffer.allocate(8).putLong(from + i).array()), value.clone());
      if (++offset % COMMIT_EVERY == 0) {
        kv.commit(Map.of(CHANGELOG, offset));
      }
    }
    kv.commit(Map.of(CHANGELOG, offset));
    return offset;
  }

  private static long copy(Snapshot snapshot, Path target) throws IOException {
    Files.createDirectories(target);
    long t = System.nanoTime();
    try (Stream<Path> files = Files.list(snapshot.directory())) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, target.resolve(f.getFileName().toString()));
      }
    }
    return (System.nanoTime() - t) / 1_000_000;
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
