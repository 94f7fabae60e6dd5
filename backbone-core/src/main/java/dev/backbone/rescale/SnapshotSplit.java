package dev.backbone.rescale;

import dev.backbone.routing.KeyToTask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.EnvOptions;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.SstFileWriter;

/**
 * Splits or merges the data of a store's snapshots into the SST files of a new task count: the data
 * step of a rescale (DESIGN.md part 6).
 *
 * <p><b>What must hold.</b> Every key of the sources lands in exactly one target, the one whose
 * partition the producer's default partitioner chooses for it among {@code targets} partitions
 * ({@link KeyToTask}, which {@code KeyToTaskTest} holds to the producer's own code), with its value
 * unchanged; no key is lost, none appears twice. The keys a store holds are the serialized keys its
 * records were partitioned by (a keyed stage's store is keyed by its input topic's key), so a new
 * task's file holds exactly the state of the keys its partition will receive.
 *
 * <p><b>How.</b> Each source is a RocksDB directory of a Backbone store (a snapshot's checkpoint),
 * opened read-only; its data column family is iterated in key order, and the sources are merged
 * into one key-ordered stream (RocksDB's bytewise order, unsigned), so that every target receives
 * its keys in increasing order, which is what an {@link SstFileWriter} requires and what lets the
 * new store ingest the file without rewriting it. The work is one sequential pass over the data:
 * its cost grows with the state's size, not with the history of the input. Sources are the
 * partitions of one key space, so no key is in two of them; if one is, the sources are not what
 * they claim and the split fails rather than choose a value. The metadata column family (offsets,
 * position) is not carried: a new task's offsets are the rescale plan's to set.
 */
public final class SnapshotSplit {
  private SnapshotSplit() {}

  /**
   * What one target received.
   *
   * @param partition the target partition (task) number
   * @param file its SST file; empty when no key belongs to it
   * @param keys the keys written
   * @param bytes the bytes of keys and values written
   */
  public record Target(int partition, Optional<Path> file, long keys, long bytes) {}

  /**
   * The outcome of a split.
   *
   * @param targets one entry per target partition, in partition order
   * @param keys the keys read from all sources (and written, each once)
   * @param bytes the bytes of keys and values read
   */
  public record Result(List<Target> targets, long keys, long bytes) {}

  /** Told how far a split has come, every {@value #PROGRESS_EVERY} keys and at the end. */
  @FunctionalInterface
  public interface Progress {
    /**
     * @param keys keys done so far
     * @param bytes bytes done so far
     */
    void advanced(long keys, long bytes);
  }

  /** How many keys pass between two progress reports. */
  public static final int PROGRESS_EVERY = 65_536;

  /**
   * Splits (or merges) the data of {@code sources} into {@code targets} SST files under {@code
   * outDir}, named {@code target-<partition>.sst}.
   *
   * @param sources RocksDB directories of the store's snapshots (one per old task)
   * @param targets the new partition count, at least 1
   * @param outDir an empty or absent directory for the files
   * @param progress told of the progress
   * @throws IllegalArgumentException if {@code targets} is below 1, or there are no sources
   * @throws IllegalStateException if a key is in two sources
   * @throws IOException if a source cannot be read or a file written
   */
  public static Result split(List<Path> sources, int targets, Path outDir, Progress progress)
      throws IOException {
    return split(sources, null, targets, outDir, progress);
  }

  /**
   * As {@link #split(List, int, Path, Progress)}, and checks that every key of source {@code i} is
   * one the producer's partitioner sends to partition {@code i} of {@code sources.size()}: the
   * sources are the partitions of a store kept by its input topic's key. A store keyed by anything
   * else (a key the topology derives) cannot be split by key, and is refused at its first such key
   * before anything is written where a new task would read it.
   *
   * @throws IllegalStateException naming the key, its source and the partition it belongs to
   */
  public static Result splitPartitions(
      List<Path> sources, int targets, Path outDir, Progress progress) throws IOException {
    return split(sources, sources.size(), targets, outDir, progress);
  }

  private static Result split(
      List<Path> sources, Integer checkedCount, int targets, Path outDir, Progress progress)
      throws IOException {
    Objects.requireNonNull(progress, "progress");
    if (targets < 1) {
      throw new IllegalArgumentException("a rescale needs at least 1 target task, not " + targets);
    }
    if (sources.isEmpty()) {
      throw new IllegalArgumentException("a split needs at least one source snapshot");
    }
    Files.createDirectories(outDir);
    RocksDB.loadLibrary();
    List<Source> open = new ArrayList<>();
    Writers writers = new Writers(targets, outDir);
    try {
      for (int i = 0; i < sources.size(); i++) {
        Source source = Source.open(sources.get(i));
        source.partition = i;
        open.add(source);
      }
      PriorityQueue<Source> merge =
          new PriorityQueue<>((a, b) -> Arrays.compareUnsigned(a.key(), b.key()));
      open.stream().filter(Source::valid).forEach(merge::add);
      long keys = 0;
      long bytes = 0;
      byte[] previous = null;
      Source previousSource = null;
      while (!merge.isEmpty()) {
        Source source = merge.poll();
        byte[] key = source.key();
        byte[] value = source.value();
        if (previous != null && Arrays.equals(previous, key)) {
          throw new IllegalStateException(
              "key "
                  + hex(key)
                  + " is in two source snapshots, "
                  + previousSource.dir
                  + " and "
                  + source.dir
                  + ": they are not the partitions of one store");
        }
        if (checkedCount != null && KeyToTask.partition(key, checkedCount) != source.partition) {
          throw new IllegalStateException(
              "key "
                  + hex(key)
                  + " is in the snapshot of partition "
                  + source.partition
                  + " ("
                  + source.dir
                  + ") but the producer's partitioner sends it to partition "
                  + KeyToTask.partition(key, checkedCount)
                  + " of "
                  + checkedCount
                  + ": the store is not keyed by its input topic's key, so it cannot be split by"
                  + " key");
        }
        writers.put(KeyToTask.partition(key, targets), key, value);
        keys++;
        bytes += key.length + value.length;
        if (keys % PROGRESS_EVERY == 0) {
          progress.advanced(keys, bytes);
        }
        previous = key;
        previousSource = source;
        source.next();
        if (source.valid()) {
          merge.add(source);
        }
      }
      List<Target> done = writers.finish();
      progress.advanced(keys, bytes);
      return new Result(done, keys, bytes);
    } catch (RocksDBException e) {
      throw new IOException("splitting " + sources + " into " + targets + " tasks failed: " + e, e);
    } finally {
      writers.close();
      open.forEach(Source::close);
    }
  }

  private static String hex(byte[] key) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Math.min(key.length, 32); i++) {
      out.append(String.format("%02x", key[i]));
    }
    return out.append(key.length > 32 ? "..." : "").toString();
  }

  /** One source snapshot, open read-only, its data iterated in key order. */
  private static final class Source {
    final Path dir;
    final DBOptions options;
    final ColumnFamilyOptions cfOptions;
    final List<ColumnFamilyHandle> handles;
    final RocksDB db;
    final ReadOptions read;
    final RocksIterator it;
    int partition = -1;

    private Source(
        Path dir,
        DBOptions options,
        ColumnFamilyOptions cfOptions,
        List<ColumnFamilyHandle> handles,
        RocksDB db,
        ReadOptions read,
        RocksIterator it) {
      this.dir = dir;
      this.options = options;
      this.cfOptions = cfOptions;
      this.handles = handles;
      this.db = db;
      this.read = read;
      this.it = it;
    }

    static Source open(Path dir) throws IOException {
      DBOptions options = new DBOptions();
      ColumnFamilyOptions cfOptions = new ColumnFamilyOptions();
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      try {
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (byte[] name : RocksDB.listColumnFamilies(new Options(), dir.toString())) {
          descriptors.add(new ColumnFamilyDescriptor(name, cfOptions));
        }
        if (descriptors.isEmpty()) {
          throw new IOException(dir + " is not a RocksDB directory");
        }
        RocksDB db = RocksDB.openReadOnly(options, dir.toString(), descriptors, handles);
        ReadOptions read = new ReadOptions().setFillCache(false);
        ColumnFamilyHandle data = null;
        for (ColumnFamilyHandle handle : handles) {
          if (Arrays.equals(handle.getName(), RocksDB.DEFAULT_COLUMN_FAMILY)) {
            data = handle;
          }
        }
        RocksIterator it = db.newIterator(data, read);
        it.seekToFirst();
        return new Source(dir, options, cfOptions, handles, db, read, it);
      } catch (RocksDBException e) {
        handles.forEach(ColumnFamilyHandle::close);
        cfOptions.close();
        options.close();
        throw new IOException("cannot open the snapshot at " + dir + " read-only: " + e, e);
      }
    }

    boolean valid() {
      return it.isValid();
    }

    byte[] key() {
      return it.key();
    }

    byte[] value() {
      return it.value();
    }

    void next() throws RocksDBException {
      it.next();
      it.status();
    }

    void close() {
      it.close();
      read.close();
      handles.forEach(ColumnFamilyHandle::close);
      db.close();
      cfOptions.close();
      options.close();
    }
  }

  /** One SST writer per target, opened at its first key. */
  private static final class Writers {
    final Path outDir;
    final EnvOptions env = new EnvOptions();
    final Options options = new Options();
    final SstFileWriter[] writers;
    final long[] keys;
    final long[] bytes;

    Writers(int targets, Path outDir) {
      this.outDir = outDir;
      this.writers = new SstFileWriter[targets];
      this.keys = new long[targets];
      this.bytes = new long[targets];
    }

    Path file(int target) {
      return outDir.resolve("target-" + target + ".sst");
    }

    void put(int target, byte[] key, byte[] value) throws RocksDBException {
      SstFileWriter writer = writers[target];
      if (writer == null) {
        writer = new SstFileWriter(env, options);
        writer.open(file(target).toString());
        writers[target] = writer;
      }
      writer.put(key, value);
      keys[target]++;
      bytes[target] += key.length + value.length;
    }

    List<Target> finish() throws RocksDBException {
      List<Target> out = new ArrayList<>();
      for (int t = 0; t < writers.length; t++) {
        if (writers[t] != null) {
          writers[t].finish();
        }
        out.add(
            new Target(
                t,
                writers[t] == null ? Optional.empty() : Optional.of(file(t)),
                keys[t],
                bytes[t]));
      }
      return out;
    }

    void close() {
      for (SstFileWriter writer : writers) {
        if (writer != null) {
          writer.close();
        }
      }
      options.close();
      env.close();
    }
  }
}
