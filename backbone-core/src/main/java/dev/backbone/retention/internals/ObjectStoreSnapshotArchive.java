package dev.backbone.retention.internals;

import static dev.backbone.retention.internals.ArchiveFailure.Problem.SOURCE_INVALID;
import static dev.backbone.retention.internals.ArchiveFailure.Problem.UNAVAILABLE;

import dev.backbone.bootstrap.internals.Throttle;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.retention.ArchiveSettings;
import dev.backbone.retention.ArchivedSnapshot;
import dev.backbone.retention.ArchivedStore;
import dev.backbone.retention.RetainResult;
import dev.backbone.retention.SnapshotArchive;
import dev.backbone.retention.UploadResult;
import dev.backbone.retention.internals.ArchiveBackend.StoredObject;
import dev.backbone.retention.internals.ParallelTransfers.Transfer;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotManifest.SnapshotFile;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SnapshotArchive} over any {@link ArchiveBackend} (a directory, an S3 bucket): the key
 * layout ({@link ArchiveLayout}), the order of writes and deletes, and the checks of every byte.
 *
 * <p>What must always hold: <b>a manifest in the archive names only files that are in the archive,
 * each with the size and CRC32C the manifest says</b>, so that any snapshot {@link #list} returns
 * can be downloaded whole, even after every node is gone. And a download returns a directory only
 * once all of it was checked.
 *
 * <p>How it holds:
 *
 * <ol>
 *   <li>A file is stored under a key holding its checksum and size as well as its name, and its
 *       bytes are checked against that checksum as they are read for the upload ({@link
 *       SnapshotFileContent}: the last read fails on a mismatch, so the backend never completes the
 *       object). A backend writes an object whole or not at all (temporary file and rename; S3's
 *       PUT and multipart completion). So an object under a file key always holds what its key
 *       says, and "already there" needs only its size.
 *   <li>An upload writes the manifest only after every file it names is in the archive. A crash or
 *       failure before leaves files no manifest names: invisible, reused by the next upload, and
 *       deleted by retention after the grace period.
 *   <li>Retention deletes manifests first, then reads the manifests again and deletes only files
 *       none of them names and that are older than the grace period. Between the two steps a
 *       snapshot is either listed with all its files or not listed. A file an upload sent moments
 *       ago, before its manifest exists, is younger than the grace period. What this does not
 *       cover: a concurrent upload that found a file "already there" which a retention then deletes
 *       as unnamed; hence uploads and retention of one store are meant to come from one owner (the
 *       task's active node) in sequence, as {@link SnapshotArchive} says. If a manifest cannot be
 *       read (a newer format), retention deletes no file at all.
 *   <li>A download writes into a hidden directory, checks every file's size and CRC32C as it
 *       arrives, writes the manifest last and renames the directory; any failure deletes it, after
 *       every transfer of it has stopped ({@link ParallelTransfers}).
 * </ol>
 */
public final class ObjectStoreSnapshotArchive implements SnapshotArchive {
  private static final Logger log = LoggerFactory.getLogger(ObjectStoreSnapshotArchive.class);

  private final ArchiveBackend backend;
  private final ArchiveSettings settings;
  private final ParallelTransfers transfers;
  private final Clock clock;

  ObjectStoreSnapshotArchive(ArchiveBackend backend, ArchiveSettings settings, Clock clock) {
    this.backend = backend;
    this.settings = settings;
    this.clock = clock;
    this.transfers = new ParallelTransfers(settings.parallelism(), "backbone-archive");
  }

  /**
   * Opens the archive of valid settings ({@link ArchiveSettings#problems()} empty).
   *
   * @throws FatalBackboneException {@code ARCHIVE_UNUSABLE} if its directory cannot be created
   */
  public static SnapshotArchive open(ArchiveSettings settings) {
    if (settings.isS3()) {
      return new ObjectStoreSnapshotArchive(
          new S3SnapshotArchive(settings), settings, Clock.systemUTC());
    }
    Path root = Path.of(URI.create(settings.uri()));
    try {
      return new ObjectStoreSnapshotArchive(
          new LocalDirectoryArchive(root), settings, Clock.systemUTC());
    } catch (IOException e) {
      throw new FatalBackboneException(
          "ARCHIVE_UNUSABLE",
          "cannot create the snapshot archive directory "
              + root
              + ": "
              + e
              + ". Check the path and its permissions.",
          e);
    }
  }

  @Override
  public String describe() {
    return backend.describe();
  }

  @Override
  public UploadResult upload(Snapshot snapshot) {
    long start = System.nanoTime();
    SnapshotManifest manifest = snapshot.manifest();
    String call =
        "upload of the snapshot of store "
            + manifest.storeName()
            + " task "
            + manifest.taskId()
            + " at "
            + snapshot.directory()
            + " to "
            + describe();
    try {
      byte[] manifestBytes = sourceManifest(snapshot);
      String store = storePrefix(manifest.applicationId(), manifest.taskId(), manifest.storeName());
      ArchivedSnapshot archived =
          new ArchivedSnapshot(
              ArchiveLayout.snapshotId(manifest.createdAt(), manifestBytes), manifest);
      Throttle throttle = new Throttle(settings.throttleBytesPerSecond());
      List<Transfer<Boolean>> sends = new ArrayList<>();
      for (SnapshotFile file : manifest.files()) {
        sends.add(batch -> sendIfMissing(snapshot.directory(), store, file, throttle));
      }
      List<Boolean> sent = transfers.runAll(sends);
      String manifestKey = ArchiveLayout.manifestKey(store, archived.id());
      try {
        if (backend.sizeOf(manifestKey) != manifestBytes.length) {
          backend.put(manifestKey, ArchiveBackend.Content.of(manifestBytes));
        }
      } catch (IOException e) {
        throw new ArchiveFailure(UNAVAILABLE, "its manifest", "could not be written: " + e, e);
      }
      int filesSent = 0;
      long bytesSent = 0;
      for (int i = 0; i < sent.size(); i++) {
        if (sent.get(i)) {
          filesSent++;
          bytesSent += manifest.files().get(i).size();
        }
      }
      UploadResult result =
          new UploadResult(
              archived,
              filesSent,
              bytesSent,
              manifest.files().size() - filesSent,
              manifest.totalBytes() - bytesSent,
              Duration.ofNanos(System.nanoTime() - start));
      log.info(
          "archived {} to {}: sent {} files ({} bytes), {} files ({} bytes) were there, in {} ms",
          archived,
          describe(),
          result.filesSent(),
          result.bytesSent(),
          result.filesPresent(),
          result.bytesPresent(),
          result.took().toMillis());
      return result;
    } catch (Exception e) {
      throw ArchiveFailure.toBackboneException(call, e);
    }
  }

  /** The snapshot's manifest file, byte for byte, checked to be the manifest it says it has. */
  private static byte[] sourceManifest(Snapshot snapshot) throws ArchiveFailure {
    Path file = snapshot.directory().resolve(SnapshotManifest.FILE_NAME);
    String subject = "its manifest " + file;
    try {
      byte[] bytes = Files.readAllBytes(file);
      if (!SnapshotManifest.fromJson(bytes).equals(snapshot.manifest())) {
        throw new ArchiveFailure(
            SOURCE_INVALID, subject, "differs from the manifest given with the snapshot", null);
      }
      return bytes;
    } catch (IOException | IllegalArgumentException e) {
      throw new ArchiveFailure(SOURCE_INVALID, subject, "cannot be read: " + e.getMessage(), e);
    }
  }

  /** Sends one file unless the archive holds it; returns whether it was sent. */
  private boolean sendIfMissing(Path directory, String store, SnapshotFile file, Throttle throttle)
      throws ArchiveFailure {
    String subject = "file " + file.name();
    String key = ArchiveLayout.fileKey(store, file);
    try {
      if (backend.sizeOf(key) == file.size()) {
        return false;
      }
    } catch (IOException e) {
      throw new ArchiveFailure(UNAVAILABLE, subject, "could not be looked up: " + e, e);
    }
    Path path = directory.resolve(file.name());
    if (!Files.isRegularFile(path)) {
      throw new ArchiveFailure(SOURCE_INVALID, subject, "is missing from " + directory, null);
    }
    SnapshotFileContent content = new SnapshotFileContent(path, file, throttle);
    try {
      backend.put(key, content);
      return true;
    } catch (IOException | RuntimeException e) {
      if (content.mismatch() != null) {
        throw new ArchiveFailure(
            SOURCE_INVALID, subject, "differs from its manifest: " + content.mismatch(), e);
      }
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new ArchiveFailure(UNAVAILABLE, subject, "could not be sent: " + e, e);
    }
  }

  @Override
  public List<ArchivedSnapshot> list(String applicationId, String taskId, String storeName) {
    String store = storePrefix(applicationId, taskId, storeName);
    try {
      return readManifests(store, applicationId, taskId, storeName).readable();
    } catch (Exception e) {
      throw ArchiveFailure.toBackboneException(
          "listing the snapshots of " + ofStore(applicationId, taskId, storeName), e);
    }
  }

  /** The manifests of a store, newest first, and how many could not be read. */
  private record Manifests(List<ArchivedSnapshot> readable, int unreadable) {}

  private Manifests readManifests(
      String store, String applicationId, String taskId, String storeName) throws IOException {
    List<ArchivedSnapshot> readable = new ArrayList<>();
    int unreadable = 0;
    for (StoredObject object : backend.list(store + ArchiveLayout.MANIFESTS)) {
      String id = ArchiveLayout.snapshotIdOf(object.key()).orElse(null);
      if (id == null) {
        continue; // a temporary file of a manifest being written
      }
      SnapshotManifest manifest;
      try (InputStream in = backend.open(object.key())) {
        manifest = SnapshotManifest.fromJson(in.readAllBytes());
      } catch (NoSuchFileException e) {
        continue; // deleted since listed
      } catch (IllegalArgumentException e) {
        log.warn("skipping manifest {} in {}: {}", object.key(), describe(), e.getMessage());
        unreadable++;
        continue;
      }
      if (!manifest.applicationId().equals(applicationId)
          || !manifest.taskId().equals(taskId)
          || !manifest.storeName().equals(storeName)) {
        log.warn(
            "skipping manifest {} in {}: it describes store {} task {} application {}",
            object.key(),
            describe(),
            manifest.storeName(),
            manifest.taskId(),
            manifest.applicationId());
        unreadable++;
        continue;
      }
      readable.add(new ArchivedSnapshot(id, manifest));
    }
    readable.sort(
        Comparator.comparing((ArchivedSnapshot a) -> a.manifest().createdAt())
            .thenComparing(ArchivedSnapshot::id)
            .reversed());
    return new Manifests(readable, unreadable);
  }

  @Override
  public Snapshot download(ArchivedSnapshot snapshot, Path parent) {
    return new ArchiveDownload(backend, transfers, settings.throttleBytesPerSecond())
        .download(snapshot, parent);
  }

  @Override
  public RetainResult retainNewest(
      String applicationId, String taskId, String storeName, int keep) {
    if (keep < 1) {
      throw new IllegalArgumentException("retention must keep at least 1 snapshot, not " + keep);
    }
    String store = storePrefix(applicationId, taskId, storeName);
    try {
      List<ArchivedSnapshot> before =
          readManifests(store, applicationId, taskId, storeName).readable();
      List<ArchivedSnapshot> old = before.subList(Math.min(keep, before.size()), before.size());
      for (ArchivedSnapshot snapshot : old) {
        backend.delete(ArchiveLayout.manifestKey(store, snapshot.id()));
      }
      // Read again: an upload may have written a manifest since, naming files listed below.
      Manifests after = readManifests(store, applicationId, taskId, storeName);
      if (after.unreadable() > 0) {
        log.warn(
            "retention of store {} task {} in {}: {} manifests cannot be read, so no file is"
                + " deleted (the files they name are unknown)",
            storeName,
            taskId,
            describe(),
            after.unreadable());
        return new RetainResult(after.readable().size(), old.size(), 0, 0, 0, true);
      }
      Set<String> named = new HashSet<>();
      for (ArchivedSnapshot snapshot : after.readable()) {
        for (SnapshotFile file : snapshot.manifest().files()) {
          named.add(ArchiveLayout.fileKey(store, file));
        }
      }
      Instant graceStart = clock.instant().minus(settings.retainGrace());
      int deleted = 0;
      int inGrace = 0;
      long bytes = 0;
      for (StoredObject object : backend.list(store + ArchiveLayout.FILES)) {
        if (named.contains(object.key())) {
          continue;
        }
        if (object.lastModified().isAfter(graceStart)) {
          inGrace++;
          continue;
        }
        backend.delete(object.key());
        deleted++;
        bytes += object.size();
      }
      RetainResult result =
          new RetainResult(after.readable().size(), old.size(), deleted, bytes, inGrace, false);
      log.info("retention of store {} task {} in {}: {}", storeName, taskId, describe(), result);
      return result;
    } catch (Exception e) {
      throw ArchiveFailure.toBackboneException(
          "retention of " + ofStore(applicationId, taskId, storeName), e);
    }
  }

  @Override
  public List<ArchivedStore> inventory(String applicationId) {
    String prefix = ArchiveLayout.applicationPrefix(applicationId);
    Map<String, StoreTally> stores = new TreeMap<>();
    try {
      for (StoredObject object : backend.list(prefix)) {
        String[] parts = object.key().substring(prefix.length()).split("/", 4);
        if (parts.length < 4) {
          continue;
        }
        StoreTally tally =
            stores.computeIfAbsent(
                parts[0] + "/" + parts[1], k -> new StoreTally(parts[0], parts[1]));
        tally.bytes += object.size();
        if ((parts[2] + "/").equals(ArchiveLayout.FILES) && !parts[3].startsWith(".")) {
          tally.files++;
        }
        ArchiveLayout.snapshotIdOf(object.key())
            .flatMap(ArchiveLayout::createdAtOf)
            .ifPresent(
                createdAt -> {
                  tally.snapshots++;
                  if (tally.newest == null || createdAt.isAfter(tally.newest)) {
                    tally.newest = createdAt;
                  }
                });
      }
    } catch (IOException e) {
      throw ArchiveFailure.toBackboneException(
          "the inventory of application " + applicationId + " in " + describe(), e);
    }
    return stores.values().stream()
        .filter(t -> t.snapshots > 0)
        .map(
            t ->
                new ArchivedStore(
                    applicationId, t.taskId, t.storeName, t.snapshots, t.newest, t.files, t.bytes))
        .toList();
  }

  /** What {@link #inventory} counts of one store as the listing goes. */
  private static final class StoreTally {
    final String taskId;
    final String storeName;
    int snapshots;
    Instant newest;
    int files;
    long bytes;

    StoreTally(String taskId, String storeName) {
      this.taskId = taskId;
      this.storeName = storeName;
    }
  }

  /** A store in this archive, for messages. */
  private String ofStore(String applicationId, String taskId, String storeName) {
    return "store "
        + storeName
        + " task "
        + taskId
        + " application "
        + applicationId
        + " in "
        + describe();
  }

  private static String storePrefix(String applicationId, String taskId, String storeName) {
    return ArchiveLayout.storePrefix(applicationId, taskId, storeName);
  }

  @Override
  public void close() {
    transfers.close();
    backend.close();
  }
}
