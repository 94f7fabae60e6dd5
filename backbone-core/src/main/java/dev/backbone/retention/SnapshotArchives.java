package dev.backbone.retention;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.retention.internals.ObjectStoreSnapshotArchive;

/** Opens a {@link SnapshotArchive} from its settings. */
public final class SnapshotArchives {
  private SnapshotArchives() {}

  /**
   * Opens the archive the settings describe: a directory ({@code file://}, created if missing) or
   * an S3-compatible bucket ({@code s3://}, which must exist). Nothing is transferred yet.
   *
   * @throws FatalBackboneException {@code BAD_CONFIG} naming every problem of the settings, or
   *     {@code ARCHIVE_UNUSABLE} if the directory cannot be created
   */
  public static SnapshotArchive open(ArchiveSettings settings) {
    var problems = settings.problems();
    if (!problems.isEmpty()) {
      throw new FatalBackboneException(
          "BAD_CONFIG",
          "the snapshot archive settings have "
              + problems.size()
              + (problems.size() == 1 ? " problem: " : " problems: ")
              + String.join("; ", problems)
              + ". Fix them and start again.");
    }
    return ObjectStoreSnapshotArchive.open(settings);
  }
}
