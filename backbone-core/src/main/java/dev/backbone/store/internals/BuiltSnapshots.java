package dev.backbone.store.internals;

import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotManifest.SnapshotFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.TaskId;
import org.rocksdb.IngestExternalFileOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Snapshots built from data files rather than cut from a running store: how a rescale turns the SST
 * files of a split ({@code dev.backbone.rescale.SnapshotSplit}) into the first state of a new task,
 * which the new task's store then installs as it would a peer's snapshot (its manifest verified
 * file by file, its offsets taken from its own metadata).
 *
 * <p>What must hold: a built snapshot is a (data, offsets) pair like a cut one. The data is exactly
 * the files' keys and values, ingested into a new RocksDB laid out as a Backbone store's (the data
 * column family, and the metadata column family with the format, the given changelog offsets and
 * the time the data was current); the metadata is written in one batch after the ingestion, so a
 * directory whose metadata is complete holds all the data; the manifest is written last and the
 * directory renamed into place after it, so a crash anywhere leaves either no snapshot or a
 * complete one, never one a reader could take for complete.
 */
public final class BuiltSnapshots {
  private static final String TMP_PREFIX = ".tmp-built-";

  private BuiltSnapshots() {}

  /**
   * Builds a snapshot of store {@code storeName} of task {@code taskId} under {@code parent} from
   * {@code files} (SST files of the store's data column family, possibly overlapping in key range,
   * never holding one key twice), which it consumes.
   *
   * @param changelogOffsets the committed offset the new store starts from, per changelog partition
   * @param dataAsOf when the data was known current with those offsets
   * @return the snapshot, in {@code parent/<name>}
   * @throws IOException if the files cannot be ingested or the snapshot written
   */
  public static Snapshot build(
      Path parent,
      String name,
      List<Path> files,
      String applicationId,
      TaskId taskId,
      String storeName,
      Map<TopicPartition, Long> changelogOffsets,
      Instant dataAsOf)
      throws IOException {
    Objects.requireNonNull(dataAsOf, "dataAsOf");
    Path tmp = parent.resolve(TMP_PREFIX + name);
    Path done = parent.resolve(name);
    if (Files.exists(done)) {
      throw new IOException("a snapshot " + done + " exists already");
    }
    SnapshotFiles.deleteRecursively(tmp);
    Files.createDirectories(parent);
    try {
      try (RocksHandle handle = RocksHandle.open(storeName, tmp, Map.of())) {
        StoreMeta.checkFormat(handle.db, handle.meta, handle.writeOptions, storeName, tmp);
        List<String> paths = files.stream().map(Path::toString).toList();
        if (!paths.isEmpty()) {
          try (IngestExternalFileOptions ingest = new IngestExternalFileOptions()) {
            ingest.setMoveFiles(true);
            handle.db.ingestExternalFile(handle.data, paths, ingest);
          }
        }
        try (WriteBatch batch = new WriteBatch()) {
          StoreMeta.addOffsets(batch, handle.meta, changelogOffsets);
          StoreMeta.addDataAsOf(batch, handle.meta, dataAsOf);
          handle.db.write(handle.writeOptions, batch);
        }
        handle.db.flushWal(true);
      }
      List<SnapshotFile> described = new ArrayList<>();
      try (Stream<Path> listing = Files.list(tmp)) {
        for (Path file : listing.sorted().toList()) {
          described.add(
              new SnapshotFile(
                  file.getFileName().toString(), Files.size(file), SnapshotFile.checksumOf(file)));
        }
      }
      SnapshotManifest manifest =
          new SnapshotManifest(
              SnapshotManifest.FORMAT_VERSION,
              applicationId,
              String.valueOf(taskId),
              storeName,
              SnapshotFiles.manifestOffsets(changelogOffsets),
              described,
              Instant.now(),
              dataAsOf,
              List.of());
      SnapshotFiles.publish(tmp, done, manifest);
      return new Snapshot(done, manifest);
    } catch (RocksDBException | IOException | RuntimeException e) {
      SnapshotFiles.deleteRecursively(tmp);
      throw new IOException(
          "could not build a snapshot of store "
              + storeName
              + " of task "
              + taskId
              + " from "
              + files
              + ": "
              + e.getMessage(),
          e);
    }
  }
}
