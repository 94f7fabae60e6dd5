package dev.backbone.retention.internals;

import static dev.backbone.retention.internals.ArchiveFailure.Problem.FILE_CORRUPT;
import static dev.backbone.retention.internals.ArchiveFailure.Problem.FILE_MISSING;
import static dev.backbone.retention.internals.ArchiveFailure.Problem.LOCAL_WRITE;
import static dev.backbone.retention.internals.ArchiveFailure.Problem.SNAPSHOT_GONE;
import static dev.backbone.retention.internals.ArchiveFailure.Problem.UNAVAILABLE;

import dev.backbone.bootstrap.internals.Directories;
import dev.backbone.bootstrap.internals.Throttle;
import dev.backbone.retention.ArchivedSnapshot;
import dev.backbone.retention.internals.ParallelTransfers.Transfer;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotManifest.SnapshotFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads an archived snapshot into a local directory, for {@link ObjectStoreSnapshotArchive}
 * (whose class comment states what must hold): built in a hidden directory, every file checked
 * against the manifest's size and CRC32C as it arrives and forced to disk, the archived manifest
 * written last, the directory renamed atomically; on any failure the hidden directory is deleted
 * once no transfer writes into it any more.
 */
final class ArchiveDownload {
  private static final Logger log = LoggerFactory.getLogger(ArchiveDownload.class);

  /** Tries per file when the archive fails to deliver it (not on a wrong checksum). */
  static final int ATTEMPTS_PER_FILE = 3;

  private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
  private static final String TMP_PREFIX = ".tmp-";
  private static final String DIRECTORY_PREFIX = "archived-";
  private static final int BUFFER_BYTES = 1 << 16;

  private final ArchiveBackend backend;
  private final ParallelTransfers transfers;
  private final long throttleBytesPerSecond;

  ArchiveDownload(
      ArchiveBackend backend, ParallelTransfers transfers, long throttleBytesPerSecond) {
    this.backend = backend;
    this.transfers = transfers;
    this.throttleBytesPerSecond = throttleBytesPerSecond;
  }

  Snapshot download(ArchivedSnapshot snapshot, Path parent) {
    SnapshotManifest manifest = snapshot.manifest();
    String name = DIRECTORY_PREFIX + snapshot.id();
    Path done = parent.resolve(name);
    Path tmp = parent.resolve(TMP_PREFIX + name + "-" + UUID.randomUUID());
    try {
      String store =
          ArchiveLayout.storePrefix(
              manifest.applicationId(), manifest.taskId(), manifest.storeName());
      byte[] manifestBytes = archivedManifest(store, snapshot);
      if (Files.exists(done)) {
        throw new ArchiveFailure(LOCAL_WRITE, "directory " + done, "exists already", null);
      }
      local(() -> Files.createDirectories(tmp), tmp);
      Throttle throttle = new Throttle(throttleBytesPerSecond);
      List<Transfer<Void>> fetches = new ArrayList<>();
      for (SnapshotFile file : manifest.files()) {
        fetches.add(
            batch -> {
              fetch(store, file, tmp.resolve(file.name()), throttle, batch);
              return null;
            });
      }
      transfers.runAll(fetches);
      Path manifestFile = tmp.resolve(SnapshotManifest.FILE_NAME);
      local(
          () -> {
            Files.write(manifestFile, manifestBytes, StandardOpenOption.CREATE_NEW);
            Directories.force(manifestFile);
            Directories.force(tmp);
            Files.move(tmp, done, StandardCopyOption.ATOMIC_MOVE);
            Directories.force(parent);
            return null;
          },
          done);
      log.info(
          "downloaded {} ({} files, {} bytes) from {} into {}",
          snapshot,
          manifest.files().size(),
          manifest.totalBytes(),
          backend.describe(),
          done);
      return new Snapshot(done, manifest);
    } catch (Exception e) {
      Exception left = Directories.deleteRecursively(tmp);
      if (left != null) {
        e.addSuppressed(left);
      }
      throw ArchiveFailure.toBackboneException(
          "download of " + snapshot + " from " + backend.describe() + " into " + parent, e);
    }
  }

  /** The archived manifest's bytes; they are what the snapshot's id was derived from. */
  private byte[] archivedManifest(String store, ArchivedSnapshot snapshot) throws ArchiveFailure {
    String key = ArchiveLayout.manifestKey(store, snapshot.id());
    try (InputStream in = backend.open(key)) {
      byte[] bytes = in.readAllBytes();
      if (!SnapshotManifest.fromJson(bytes).equals(snapshot.manifest())) {
        throw new ArchiveFailure(
            FILE_CORRUPT, "its manifest " + key, "differs from the one listed", null);
      }
      return bytes;
    } catch (NoSuchFileException e) {
      throw new ArchiveFailure(SNAPSHOT_GONE, "its manifest " + key, "is gone", e);
    } catch (IllegalArgumentException e) {
      throw new ArchiveFailure(FILE_CORRUPT, "its manifest " + key, e.getMessage(), e);
    } catch (IOException e) {
      throw new ArchiveFailure(UNAVAILABLE, "its manifest " + key, "could not be read: " + e, e);
    }
  }

  /** Copies one file, trying again with backoff when the archive fails to deliver it. */
  private void fetch(
      String store,
      SnapshotFile file,
      Path target,
      Throttle throttle,
      ParallelTransfers.Batch batch)
      throws ArchiveFailure, InterruptedException, IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        fetchOnce(ArchiveLayout.fileKey(store, file), file, target, throttle, batch);
        return;
      } catch (ArchiveFailure e) {
        if (e.problem != UNAVAILABLE || attempt >= ATTEMPTS_PER_FILE) {
          throw e;
        }
        Duration backoff = FIRST_BACKOFF.multipliedBy(1L << (attempt - 1));
        log.warn(
            "download of file {} from {} failed ({}); trying again in {} ms",
            file.name(),
            backend.describe(),
            e.getMessage(),
            backoff.toMillis());
        Thread.sleep(backoff.toMillis());
      }
    }
  }

  private void fetchOnce(
      String key, SnapshotFile file, Path target, Throttle throttle, ParallelTransfers.Batch batch)
      throws ArchiveFailure, InterruptedException, IOException {
    String subject = "file " + file.name();
    InputStream in;
    try {
      in = backend.open(key);
    } catch (NoSuchFileException e) {
      throw new ArchiveFailure(FILE_MISSING, subject, "is not in the archive (" + key + ")", e);
    } catch (IOException e) {
      throw new ArchiveFailure(UNAVAILABLE, subject, "could not be read: " + e, e);
    }
    batch.abortWith(in);
    try (in;
        FileChannel out =
            local(
                () ->
                    FileChannel.open(
                        target,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE),
                target)) {
      CRC32C crc = new CRC32C();
      byte[] buffer = new byte[BUFFER_BYTES];
      long written = 0;
      while (true) {
        int n;
        try {
          n = in.read(buffer);
        } catch (InterruptedIOException e) {
          throw e;
        } catch (IOException e) {
          throw new ArchiveFailure(
              UNAVAILABLE, subject, "broke after " + written + " bytes: " + e, e);
        }
        if (n < 0) {
          break;
        }
        throttle.acquire(n);
        written += n;
        if (written > file.size()) {
          throw new ArchiveFailure(
              FILE_CORRUPT,
              subject,
              "has more than the manifest's " + file.size() + " bytes",
              null);
        }
        crc.update(buffer, 0, n);
        ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, n);
        local(
            () -> {
              while (bytes.hasRemaining()) {
                out.write(bytes);
              }
              return null;
            },
            target);
      }
      if (written != file.size()) {
        throw new ArchiveFailure(
            FILE_CORRUPT,
            subject,
            "has " + written + " bytes, the manifest says " + file.size(),
            null);
      }
      String actual = SnapshotFile.checksumText(crc);
      if (!actual.equals(file.crc32c())) {
        throw new ArchiveFailure(
            FILE_CORRUPT,
            subject,
            "has checksum " + actual + ", the manifest says " + file.crc32c(),
            null);
      }
      // Durable before it is installed: after a machine crash RocksDB must find every byte.
      local(
          () -> {
            out.force(true);
            return null;
          },
          target);
    } finally {
      batch.done(in);
    }
  }

  /** A local file-system step; its failure is a {@code LOCAL_WRITE} problem naming {@code path}. */
  private interface LocalStep<T> {
    T run() throws IOException;
  }

  private static <T> T local(LocalStep<T> step, Path path) throws ArchiveFailure {
    try {
      return step.run();
    } catch (IOException e) {
      throw new ArchiveFailure(LOCAL_WRITE, "local path " + path, "could not be written: " + e, e);
    }
  }
}
