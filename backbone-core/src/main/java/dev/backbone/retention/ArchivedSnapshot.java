package dev.backbone.retention;

import dev.backbone.store.SnapshotManifest;
import java.util.Objects;

/**
 * A snapshot held by a {@link SnapshotArchive}.
 *
 * @param id the snapshot's name in the archive, unique within its store: the manifest's {@code
 *     createdAt} in epoch milliseconds (16 digits) and a suffix derived from the manifest's bytes,
 *     e.g. {@code 0001718000000000-1a2b3c4d}
 * @param manifest its manifest, as the snapshot's node wrote it
 */
public record ArchivedSnapshot(String id, SnapshotManifest manifest) {
  /** Checks the fields. */
  public ArchivedSnapshot {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(manifest, "manifest");
  }

  /** For messages: store, task, application and id. */
  @Override
  public String toString() {
    return "snapshot "
        + id
        + " of store "
        + manifest.storeName()
        + " task "
        + manifest.taskId()
        + " application "
        + manifest.applicationId();
  }
}
