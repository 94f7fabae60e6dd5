package dev.backbone.store.internals;

import dev.backbone.bootstrap.internals.Directories;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotManifest.ChangelogOffset;
import dev.backbone.store.SnapshotManifest.SnapshotFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.TaskId;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

/**
 * Cutting, verifying and copying snapshot directories.
 *
 * <p>A snapshot is built in a hidden directory ({@code .tmp-...}), its manifest written last
 * (itself through a temporary file), and only then renamed to its final name: a crash at any point
 * leaves either a complete snapshot or a hidden directory, never a half-written snapshot under a
 * real name. Checksums of SST files are cached by name and size: SST files are immutable and a
 * RocksDB never reuses a file number, so a second snapshot reads only the files that are new.
 */
final class SnapshotFiles {
  private static final String TMP_PREFIX = ".tmp-";

  private final Map<String, String> sstChecksums = new ConcurrentHashMap<>();

  /** Bumped by {@link #clearCache}: a warm-up that began before it must not fill the new cache. */
  private final AtomicLong cacheEpoch = new AtomicLong();

  /**
   * How often each open store's live SST files are checksummed in the background, so that a
   * snapshot cut later (a peer's bootstrap, usually after a node was lost) finds its checksums
   * computed: SST files are immutable, and without this the first cut of a store read all of it
   * once before its manifest existed (1.7 s for 2.4 GB in {@code bench bootstrap}).
   */
  static final Duration WARM_EVERY = Duration.ofSeconds(10);

  /** One low-priority daemon thread for the whole JVM, shared by every store. */
  static final ScheduledExecutorService WARMER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "backbone-sst-checksums");
            t.setDaemon(true);
            t.setPriority(Thread.MIN_PRIORITY);
            return t;
          });

  /** Forgets cached checksums: the store's files were replaced. */
  void clearCache() {
    cacheEpoch.incrementAndGet();
    sstChecksums.clear();
  }

  /** The cache's epoch, read with the live file list, for {@link #warm}. */
  long cacheEpoch() {
    return cacheEpoch.get();
  }

  /**
   * Checksums the live SST files the cache lacks and forgets the files that are gone. A file that
   * vanishes while it is read (compacted away) is skipped; a cache cleared meanwhile (the store's
   * files were replaced) is left alone.
   *
   * @param epoch {@link #cacheEpoch()} when {@code live} was listed
   * @param dir the store's RocksDB directory
   * @param live name (without directory) and size of every live SST file
   * @return the bytes read
   */
  long warm(long epoch, Path dir, Map<String, Long> live) {
    Set<String> keys = new HashSet<>();
    long read = 0;
    for (Map.Entry<String, Long> file : live.entrySet()) {
      String key = file.getKey() + ":" + file.getValue();
      keys.add(key);
      if (sstChecksums.containsKey(key)) {
        continue;
      }
      String crc;
      try {
        crc = SnapshotFile.checksumOf(dir.resolve(file.getKey()));
      } catch (IOException e) {
        continue; // compacted away since it was listed
      }
      read += file.getValue();
      if (cacheEpoch.get() != epoch) {
        return read;
      }
      sstChecksums.putIfAbsent(key, crc);
    }
    if (cacheEpoch.get() == epoch) {
      sstChecksums.keySet().retainAll(keys);
    }
    return read;
  }

  /** Whether the checksum of that SST file is cached, for tests. */
  boolean hasChecksumOf(String name, long size) {
    return sstChecksums.containsKey(name + ":" + size);
  }

  /**
   * Cuts a checkpoint of {@code db} with its manifest.
   *
   * @param attested a time the caller established the data was current as of (null if none); the
   *     manifest's {@code dataAsOf} is the later of it and the checkpoint's own
   * @param recordsBelow per changelog partition, an end offset below which the data holds every
   *     record (established with {@code attested}); the manifest's {@code recordsThrough} is one
   *     less, where that is past the committed offset. Empty if none
   */
  Snapshot cut(
      BackboneKeyValueStore store,
      RocksDB db,
      Path parent,
      Instant attested,
      Map<TopicPartition, Long> recordsBelow) {
    String id =
        String.format(
            "snapshot-%d-%09d", System.currentTimeMillis(), System.nanoTime() % 1_000_000_000L);
    Path tmp = parent.resolve(TMP_PREFIX + id);
    Path done = parent.resolve(id);
    try {
      Files.createDirectories(parent);
      try (Checkpoint checkpoint = Checkpoint.create(db)) {
        checkpoint.createCheckpoint(tmp.toString());
      }
      CheckpointMeta described = readCheckpointMeta(store, tmp);
      List<SnapshotFile> files = new ArrayList<>();
      try (Stream<Path> listing = Files.list(tmp)) {
        for (Path file : listing.sorted().toList()) {
          files.add(describe(file));
        }
      }
      Optional<Instant> dataAsOf = described.dataAsOf();
      if (attested != null && (dataAsOf.isEmpty() || dataAsOf.get().isBefore(attested))) {
        dataAsOf = Optional.of(attested);
      }
      Map<TopicPartition, Long> through = new java.util.HashMap<>();
      recordsBelow.forEach(
          (tp, end) -> {
            Long committed = described.offsets().get(tp);
            if (committed != null && committed >= 0 && end - 1 > committed) {
              through.put(tp, end - 1);
            }
          });
      SnapshotManifest manifest =
          manifest(store, described.offsets(), dataAsOf, files, manifestOffsets(through));
      publish(tmp, done, manifest);
      return new Snapshot(done, manifest);
    } catch (RocksDBException | IOException | RuntimeException e) {
      deleteRecursively(tmp);
      if (e instanceof RetriableBackboneException r) {
        throw r;
      }
      throw new FatalBackboneException(
          "SNAPSHOT_FAILED",
          "could not snapshot store "
              + store.name()
              + " of task "
              + store.taskId()
              + " into "
              + parent
              + ": "
              + e.getMessage()
              + ". Check free disk space and permissions.",
          e);
    }
  }

  /**
   * Writes {@code manifest} into the snapshot directory {@code tmp}, last, and renames {@code tmp}
   * to {@code done}: a directory under its final name with a manifest is a complete snapshot, so a
   * crash at any point leaves either none or a complete one.
   */
  static void publish(Path tmp, Path done, SnapshotManifest manifest) throws IOException {
    Path manifestTmp = tmp.resolve(TMP_PREFIX + SnapshotManifest.FILE_NAME);
    Files.write(manifestTmp, manifest.toJson());
    Files.move(
        manifestTmp, tmp.resolve(SnapshotManifest.FILE_NAME), StandardCopyOption.ATOMIC_MOVE);
    move(tmp, done);
  }

  /** Changelog offsets as the manifest lists them, skipping Kafka Streams' "unknown" sentinel. */
  static List<ChangelogOffset> manifestOffsets(Map<TopicPartition, Long> offsets) {
    List<ChangelogOffset> list = new ArrayList<>();
    offsets.forEach(
        (tp, offset) -> {
          if (offset >= 0) {
            list.add(new ChangelogOffset(tp.topic(), tp.partition(), offset));
          }
        });
    list.sort(
        (a, b) ->
            a.topic().equals(b.topic())
                ? Integer.compare(a.partition(), b.partition())
                : a.topic().compareTo(b.topic()));
    return list;
  }

  private static SnapshotManifest manifest(
      BackboneKeyValueStore store,
      Map<TopicPartition, Long> offsets,
      Optional<Instant> dataAsOf,
      List<SnapshotFile> files,
      List<ChangelogOffset> recordsThrough) {
    return new SnapshotManifest(
        SnapshotManifest.FORMAT_VERSION,
        store.applicationId(),
        String.valueOf(store.taskId()),
        store.name(),
        manifestOffsets(offsets),
        files,
        Instant.now(),
        dataAsOf.orElse(null),
        recordsThrough);
  }

  /** What a checkpoint's metadata says its data is. */
  private record CheckpointMeta(Map<TopicPartition, Long> offsets, Optional<Instant> dataAsOf) {}

  /** Reads offsets and time of the checkpoint itself, never of the live store. */
  private static CheckpointMeta readCheckpointMeta(BackboneKeyValueStore store, Path dir)
      throws RocksDBException {
    return readMeta(
        dir,
        (checkpoint, meta) -> {
          if (StoreMeta.isDirty(checkpoint, meta)) {
            throw new RetriableBackboneException(
                "SNAPSHOT_UNAVAILABLE",
                "store "
                    + store.name()
                    + " of task "
                    + store.taskId()
                    + " is marked dirty (Kafka Streams found its changelog corrupted) and is"
                    + " rebuilt when it next opens; ask again after that");
          }
          return new CheckpointMeta(
              StoreMeta.offsets(checkpoint, meta), StoreMeta.dataAsOf(checkpoint, meta));
        });
  }

  /** Reads the metadata column family of a closed store or checkpoint. */
  interface MetaReader<T> {
    T read(RocksDB db, ColumnFamilyHandle meta) throws RocksDBException;
  }

  /** Opens the RocksDB directory {@code dir} read-only and reads its metadata. */
  static <T> T readMeta(Path dir, MetaReader<T> reader) throws RocksDBException {
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        ColumnFamilyOptions cfOptions = new ColumnFamilyOptions()) {
      List<ColumnFamilyDescriptor> descriptors =
          List.of(
              new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
              new ColumnFamilyDescriptor(StoreMeta.CF_NAME, cfOptions));
      try (RocksDB db = RocksDB.openReadOnly(options, dir.toString(), descriptors, handles)) {
        try {
          return reader.read(db, handles.get(1));
        } finally {
          handles.forEach(ColumnFamilyHandle::close);
        }
      }
    }
  }

  private SnapshotFile describe(Path file) throws IOException {
    String name = file.getFileName().toString();
    long size = Files.size(file);
    if (name.endsWith(".sst")) {
      String key = name + ":" + size;
      String cached = sstChecksums.get(key);
      if (cached == null) {
        cached = SnapshotFile.checksumOf(file);
        sstChecksums.put(key, cached);
      }
      return new SnapshotFile(name, size, cached);
    }
    return new SnapshotFile(name, size, SnapshotFile.checksumOf(file));
  }

  /** Reads and checks a snapshot's manifest and files; throws naming the first problem found. */
  SnapshotManifest verify(Path dir, String applicationId, TaskId taskId, String store) {
    return verify(dir, applicationId, taskId, store, true);
  }

  /**
   * As {@link #verify(Path, String, TaskId, String)}; with {@code checksums} false the files' sizes
   * are checked but not their CRC32C, for a copy whose every file was checked against the manifest
   * as it arrived (a peer bootstrap), so that the stream thread does not read it again.
   */
  SnapshotManifest verify(
      Path dir, String applicationId, TaskId taskId, String store, boolean checksums) {
    Path manifestFile = dir.resolve(SnapshotManifest.FILE_NAME);
    if (!Files.isRegularFile(manifestFile)) {
      throw invalid(
          dir,
          "it has no " + SnapshotManifest.FILE_NAME + " (not a snapshot, or an incomplete one)");
    }
    SnapshotManifest manifest;
    try {
      manifest = SnapshotManifest.fromJson(Files.readAllBytes(manifestFile));
    } catch (IOException | IllegalArgumentException e) {
      throw invalid(dir, "its manifest cannot be read: " + e.getMessage());
    }
    String wantedTask = String.valueOf(taskId);
    if (!manifest.applicationId().equals(applicationId)
        || !manifest.taskId().equals(wantedTask)
        || !manifest.storeName().equals(store)) {
      throw invalid(
          dir,
          "it is a snapshot of store "
              + manifest.storeName()
              + ", task "
              + manifest.taskId()
              + ", application "
              + manifest.applicationId()
              + ", not of store "
              + store
              + ", task "
              + wantedTask
              + ", application "
              + applicationId);
    }
    for (SnapshotFile f : manifest.files()) {
      Path file = dir.resolve(f.name());
      try {
        long size = Files.size(file);
        if (size != f.size()) {
          throw invalid(
              dir, "file " + f.name() + " has " + size + " bytes, the manifest says " + f.size());
        }
        String crc = checksums ? SnapshotFile.checksumOf(file) : f.crc32c();
        if (!crc.equals(f.crc32c())) {
          throw invalid(
              dir,
              "file " + f.name() + " has checksum " + crc + ", the manifest says " + f.crc32c());
        }
      } catch (NoSuchFileException e) {
        throw invalid(dir, "file " + f.name() + " listed in the manifest is missing");
      } catch (IOException e) {
        throw invalid(dir, "file " + f.name() + " cannot be read: " + e.getMessage());
      }
    }
    return manifest;
  }

  private static FatalBackboneException invalid(Path dir, String problem) {
    return new FatalBackboneException(
        "SNAPSHOT_INVALID",
        "refusing snapshot " + dir + ": " + problem + ". Take or fetch another snapshot.");
  }

  /** Copies the manifest's files into a new directory; SST files are hard-linked when possible. */
  void copyInto(Path dir, SnapshotManifest manifest, Path target) throws IOException {
    Files.createDirectories(target);
    for (SnapshotFile f : manifest.files()) {
      Path from = dir.resolve(f.name());
      Path to = target.resolve(f.name());
      if (f.name().endsWith(".sst")) {
        try {
          Files.createLink(to, from);
          continue;
        } catch (IOException | UnsupportedOperationException e) {
          // another file system: copy below
        }
      }
      Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
      // The hard-linked SST files are the snapshot's, durable already (a RocksDB checkpoint
      // syncs them, a peer copy forces each file it received); the copied ones are not.
      Directories.force(to);
    }
    Directories.force(target);
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
      throw new IOException("cannot rename " + from + " to " + to + ": " + e.getMessage(), e);
    }
  }

  static void deleteRecursively(Path dir) {
    Exception failure = Directories.deleteRecursively(dir);
    if (failure != null) {
      throw new UncheckedIOException(
          "cannot delete " + dir,
          failure instanceof IOException io ? io : new IOException(failure.getMessage(), failure));
    }
  }
}
