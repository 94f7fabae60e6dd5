package dev.backbone.store.internals;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.store.SnapshotManifest;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.kafka.streams.processor.TaskId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a verified snapshot in place of a store's data: copy into staging, close RocksDB, swap the
 * directories ({@link DirectorySwap}), reopen; on any failure the old data is back and open, and a
 * message says "keeps its old data" only then. The store holds its lifecycle write lock and has
 * checked that it may install.
 */
final class SnapshotInstall {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotInstall.class);

  private final String name;
  private final TaskId taskId;
  private final SnapshotFiles snapshotFiles;
  private final DirectorySwap swap;

  SnapshotInstall(String name, TaskId taskId, SnapshotFiles snapshotFiles, DirectorySwap swap) {
    this.name = name;
    this.taskId = taskId;
    this.snapshotFiles = snapshotFiles;
    this.swap = swap;
  }

  void run(Path snapshotDirectory, SnapshotManifest manifest, Runnable closeDb, Runnable openDb) {
    try {
      snapshotFiles.copyInto(snapshotDirectory, manifest, swap.staging());
    } catch (IOException e) {
      SnapshotFiles.deleteRecursively(swap.staging());
      throw installFailed(snapshotDirectory, "copying its files failed: " + e.getMessage(), e);
    }
    closeDb.run();
    try {
      swap.swapIn();
    } catch (DirectorySwap.SwapFailed e) {
      if (!e.oldDataInPlace()) {
        throw new FatalBackboneException(
            "SNAPSHOT_INSTALL_FAILED",
            "installing snapshot "
                + snapshotDirectory
                + " into store "
                + name
                + " of task "
                + taskId
                + " failed ("
                + e.getMessage()
                + ") and the old data could not be moved back: it is at "
                + swap.previous()
                + ", where the store puts it back when it next opens; check the file system",
            e);
      }
      openDb.run();
      throw installFailed(snapshotDirectory, "moving it into place failed: " + e.getMessage(), e);
    }
    try {
      openDb.run();
    } catch (RuntimeException e) {
      try {
        swap.swapBack();
      } catch (IOException undo) {
        e.addSuppressed(undo);
      }
      openDb.run();
      throw installFailed(snapshotDirectory, "opening it failed: " + e.getMessage(), e);
    }
    swap.commit();
    try {
      swap.forceRenames();
    } catch (IOException e) {
      // Installed and open; only a machine crash before the disk catches up could lose it, and
      // the store would then find no committed offset and bootstrap or restore again.
      LOG.warn(
          "store {} of task {}: could not sync the install to disk: {}",
          name,
          taskId,
          e.toString());
    }
    LOG.info(
        "store {} of task {} installed snapshot {} (offsets {}, data as of {})",
        name,
        taskId,
        snapshotDirectory,
        manifest.changelogOffsets(),
        manifest.dataAsOf());
  }

  private FatalBackboneException installFailed(Path snapshot, String problem, Throwable cause) {
    return new FatalBackboneException(
        "SNAPSHOT_INSTALL_FAILED",
        "could not install snapshot "
            + snapshot
            + " into store "
            + name
            + " of task "
            + taskId
            + ": "
            + problem
            + "; the store keeps its old data",
        cause);
  }
}
