package dev.backbone.retention;

import dev.backbone.bootstrap.BootstrapSource;
import dev.backbone.bootstrap.ColdBootstrap;
import dev.backbone.bootstrap.PeerSnapshotFetcher;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cold bootstrap's copy from the snapshot archive: the newest archived snapshot of the store that
 * an install would accept, downloaded next to the store and checked file by file.
 *
 * <p>What it passes over, newest first: a snapshot below the offset the plan requires (a truncated
 * changelog's missing records must be in it), and one whose data is not younger than the
 * changelog's {@code delete.retention.ms} (compaction may have dropped a tombstone after it: the
 * install would refuse it). Snapshots are listed newest first, so the first acceptable one is the
 * freshest and leaves the shortest tail to replay.
 */
public final class ArchiveBootstrap implements BootstrapSource.ArchivedCopies {
  private static final Logger log = LoggerFactory.getLogger(ArchiveBootstrap.class);

  private final SnapshotArchive archive;
  private final URI location;
  private final Clock clock;

  /**
   * @param archive the node's archive
   * @param location its URI ({@code backbone.archive.uri}), named as the copy's source
   * @param clock the time, to judge a snapshot's age
   */
  public ArchiveBootstrap(SnapshotArchive archive, URI location, Clock clock) {
    this.archive = Objects.requireNonNull(archive, "archive");
    this.location = Objects.requireNonNull(location, "location");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public Optional<PeerSnapshotFetcher.Result> copy(
      BootstrapSource.Request request,
      Path stagingParent,
      PeerSnapshotFetcher.Progress progress,
      Duration maxDataAge,
      long minOffset) {
    long started = System.nanoTime();
    List<ArchivedSnapshot> snapshots =
        archive.list(request.applicationId(), request.taskId().toString(), request.storeName());
    Instant now = clock.instant();
    for (ArchivedSnapshot candidate : snapshots) {
      SnapshotManifest manifest = candidate.manifest();
      String refusal = refusal(manifest, maxDataAge, minOffset, now);
      if (refusal != null) {
        log.info(
            "archived snapshot {} of store {} task {} is passed over: {}",
            candidate.id(),
            request.storeName(),
            request.taskId(),
            refusal);
        continue;
      }
      long bytes = manifest.totalBytes();
      progress.report(0, bytes);
      Snapshot copy = archive.download(candidate, stagingParent);
      progress.report(bytes, bytes);
      return Optional.of(
          new PeerSnapshotFetcher.Result(
              copy.directory(),
              new PeerSnapshotFetcher.Peer(ColdBootstrap.ARCHIVE, location),
              bytes,
              Duration.ofNanos(System.nanoTime() - started),
              List.of(),
              0));
    }
    return Optional.empty();
  }

  /** Why an install could not use this snapshot, or null if it could. */
  static String refusal(
      SnapshotManifest manifest, Duration maxDataAge, long minOffset, Instant now) {
    long offset = manifest.highestCoveredOffset();
    if (minOffset >= 0 && offset < minOffset) {
      return "it holds the changelog's records through offset "
          + offset
          + ", and the records up to "
          + minOffset
          + " are no longer in the changelog";
    }
    if (maxDataAge != null) {
      if (manifest.dataAsOf() == null) {
        return "its manifest does not say when its data was current";
      }
      if (!manifest.dataAsOf().plus(maxDataAge).isAfter(now)) {
        return "its data is as of "
            + manifest.dataAsOf()
            + ", not younger than the changelog's delete.retention.ms ("
            + maxDataAge
            + ")";
      }
    }
    return null;
  }

  @Override
  public String describe() {
    return archive.describe();
  }
}
