package dev.backbone.retention.internals;

import dev.backbone.store.SnapshotManifest.SnapshotFile;
import java.time.Instant;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The archive's keys, the same in every backend:
 *
 * <pre>
 * app/task/store/files/CRC32C-SIZE-NAME       a snapshot file, shared by every snapshot naming it
 * app/task/store/manifests/MILLIS-SUFFIX.json a snapshot: its manifest, byte for byte
 * </pre>
 *
 * A file's key holds its checksum and size as well as its name: RocksDB never reuses an SST file's
 * name within one store, but two replicas of a task write different files under the same name (and
 * a restored store starts numbering again), so the name alone would not identify the content.
 * {@code MILLIS} is the manifest's {@code createdAt} (16 digits, so names sort by time) and {@code
 * SUFFIX} the CRC32C of the manifest's bytes, so uploading one snapshot twice writes one key.
 */
final class ArchiveLayout {
  static final String FILES = "files/";
  static final String MANIFESTS = "manifests/";
  static final String MANIFEST_SUFFIX = ".json";

  private ArchiveLayout() {}

  /** {@code app/}, checking that the id is one path segment. */
  static String applicationPrefix(String applicationId) {
    return segment("application id", applicationId) + "/";
  }

  /** {@code app/task/store/}, checking that each is one path segment. */
  static String storePrefix(String applicationId, String taskId, String storeName) {
    return applicationPrefix(applicationId)
        + segment("task id", taskId)
        + "/"
        + segment("store name", storeName)
        + "/";
  }

  static String fileKey(String storePrefix, SnapshotFile file) {
    return storePrefix + FILES + file.crc32c() + "-" + file.size() + "-" + file.name();
  }

  static String manifestKey(String storePrefix, String snapshotId) {
    return storePrefix + MANIFESTS + snapshotId + MANIFEST_SUFFIX;
  }

  /** The id of the snapshot whose manifest has these bytes. */
  static String snapshotId(Instant createdAt, byte[] manifestBytes) {
    CRC32C crc = new CRC32C();
    crc.update(manifestBytes);
    return String.format("%016d-%08x", createdAt.toEpochMilli(), crc.getValue());
  }

  /** The snapshot id of a manifest key, if it is one. */
  static Optional<String> snapshotIdOf(String key) {
    int at = key.lastIndexOf('/' + MANIFESTS);
    if (at < 0 || !key.endsWith(MANIFEST_SUFFIX)) {
      return Optional.empty();
    }
    String id = key.substring(at + 1 + MANIFESTS.length(), key.length() - MANIFEST_SUFFIX.length());
    return id.contains("/") || id.startsWith(".") ? Optional.empty() : Optional.of(id);
  }

  /** When the snapshot of that id was cut, read from the id. */
  static Optional<Instant> createdAtOf(String snapshotId) {
    int dash = snapshotId.indexOf('-');
    try {
      return Optional.of(Instant.ofEpochMilli(Long.parseLong(snapshotId.substring(0, dash))));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  private static String segment(String what, String value) {
    if (value == null
        || value.isEmpty()
        || value.startsWith(".")
        || value.contains("/")
        || value.contains("\\")) {
      throw new IllegalArgumentException(
          "the " + what + " '" + value + "' cannot name a folder of the archive");
    }
    return value;
  }
}
