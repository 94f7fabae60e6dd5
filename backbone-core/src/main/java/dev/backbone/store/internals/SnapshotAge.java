package dev.backbone.store.internals;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.store.SnapshotManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * Whether a snapshot is recent enough to install.
 *
 * <p>After an install Kafka Streams replays the changelog from the snapshot's offset. On a
 * compacted changelog a tombstone stays at least {@code delete.retention.ms} after it was written
 * (the cleaner sets its delete horizon when it first cleans it), and then may vanish; a store
 * restored from an older point would then keep a key that was deleted since. Every changelog record
 * after the snapshot's offset was written after the snapshot's {@code dataAsOf}, so a snapshot
 * whose data is younger than {@code delete.retention.ms} misses no tombstone. One with no {@code
 * dataAsOf} (a store that never committed processing writes, e.g. a standby that only restored)
 * cannot show that and is refused too.
 */
final class SnapshotAge {
  private SnapshotAge() {}

  static void check(SnapshotManifest manifest, Path dir, Duration deleteRetention, Instant now) {
    if (deleteRetention == null || deleteRetention.isNegative() || deleteRetention.isZero()) {
      throw new IllegalArgumentException(
          "the changelog's delete.retention.ms must be positive, got " + deleteRetention);
    }
    if (manifest.dataAsOf() == null) {
      throw new FatalBackboneException(
          "SNAPSHOT_TOO_OLD",
          "refusing snapshot "
              + dir
              + ": it does not say when its data was current with its changelog offsets (taken"
              + " from a store that never committed processing writes), so a replay of the tail"
              + " could miss tombstones compaction removed. Take a snapshot from the task's"
              + " active, or restore from the changelog.");
    }
    Duration age = Duration.between(manifest.dataAsOf(), now);
    if (age.compareTo(deleteRetention) >= 0) {
      throw new FatalBackboneException(
          "SNAPSHOT_TOO_OLD",
          "refusing snapshot "
              + dir
              + ": its data is "
              + age.toSeconds()
              + " s old (as of "
              + manifest.dataAsOf()
              + "), not younger than the changelog's delete.retention.ms of "
              + deleteRetention.toSeconds()
              + " s, so tombstones written since may already be compacted away and deleted keys"
              + " would come back. Take a newer snapshot, or restore from the changelog.");
    }
  }
}
