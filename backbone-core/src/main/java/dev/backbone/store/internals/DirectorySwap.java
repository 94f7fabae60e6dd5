package dev.backbone.store.internals;

import dev.backbone.bootstrap.internals.Directories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces a store's RocksDB directory with a staged one, so that at every instant — a failure, or
 * the process killed between any two steps — exactly one complete copy is where the store opens it,
 * or can be put back there by {@link #recover}.
 *
 * <p>The steps: {@code live -> live.previous} (the old data), then {@code staged -> live}, then
 * delete {@code live.previous}. If the second rename fails, the first is undone; nothing is ever
 * deleted that might be the only copy of the old data. After a crash, {@link #recover} (run before
 * every open) finishes or undoes the swap: no {@code live} but a {@code live.previous} means the
 * swap stopped between its renames, so the previous data goes back; both present means it
 * completed, so the previous copy goes.
 */
final class DirectorySwap {
  private static final Logger LOG = LoggerFactory.getLogger(DirectorySwap.class);

  /** A rename; tests inject failures here. */
  @FunctionalInterface
  interface Rename {
    void move(Path from, Path to) throws IOException;
  }

  static final Rename FILES_MOVE = (from, to) -> Files.move(from, to);

  private final Path live;
  private final Rename rename;

  DirectorySwap(Path live, Rename rename) {
    this.live = live;
    this.rename = rename;
  }

  /** Where a staged copy is built before {@link #swapIn}. */
  Path staging() {
    return live.resolveSibling(live.getFileName() + ".installing");
  }

  Path previous() {
    return live.resolveSibling(live.getFileName() + ".previous");
  }

  /** Finishes or undoes a swap interrupted by a crash, and drops a leftover staging copy. */
  void recover() throws IOException {
    Path previous = previous();
    if (Files.exists(previous)) {
      if (Files.exists(live)) {
        LOG.info("{}: a snapshot install completed before a crash; removing {}", live, previous);
        SnapshotFiles.deleteRecursively(previous);
      } else {
        LOG.warn(
            "{}: a snapshot install stopped half-way; putting back the data from {}",
            live,
            previous);
        rename.move(previous, live);
      }
    }
    SnapshotFiles.deleteRecursively(staging());
  }

  /**
   * Moves the staged copy into place. On failure the old data is back in place (or, if even that
   * rename failed, at {@link #previous()}, where {@link #recover} finds it) and the staged copy is
   * deleted.
   *
   * @throws SwapFailed naming where the old data is
   */
  void swapIn() throws SwapFailed {
    boolean oldMoved = false;
    try {
      if (Files.exists(live)) {
        rename.move(live, previous());
        oldMoved = true;
      }
      rename.move(staging(), live);
    } catch (IOException | RuntimeException e) {
      SnapshotFiles.deleteRecursively(staging());
      if (!oldMoved) {
        throw new SwapFailed(e, true);
      }
      try {
        rename.move(previous(), live);
        throw new SwapFailed(e, true);
      } catch (IOException | RuntimeException undo) {
        e.addSuppressed(undo);
        throw new SwapFailed(e, false);
      }
    }
  }

  /** Forces the renames of a swap to the disk: they survive a machine crash once this returns. */
  void forceRenames() throws IOException {
    Directories.force(live.getParent());
  }

  /** Undoes a completed {@link #swapIn}: the new data goes, the previous comes back. */
  void swapBack() throws IOException {
    SnapshotFiles.deleteRecursively(live);
    if (Files.exists(previous())) {
      rename.move(previous(), live);
    }
  }

  /** Drops the previous data once the new data opened. */
  void commit() {
    SnapshotFiles.deleteRecursively(previous());
  }

  /** A swap that did not happen. */
  static final class SwapFailed extends Exception {
    private final boolean oldDataInPlace;

    SwapFailed(Throwable cause, boolean oldDataInPlace) {
      super(cause.getMessage(), cause);
      this.oldDataInPlace = oldDataInPlace;
    }

    /** Whether the old data is back where the store opens it. */
    boolean oldDataInPlace() {
      return oldDataInPlace;
    }
  }
}
