package dev.backbone.retention;

import dev.backbone.bootstrap.internals.Directories;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Archives a snapshot of every store of the tasks active on a node, every {@code
 * backbone.snapshot.interval.ms}: cut, upload (only the files the archive lacks), delete the local
 * copy, keep the newest {@code backbone.archive.keep.snapshots} in the archive.
 *
 * <p><b>What must hold.</b> The newest archived snapshot of every task is at most one interval
 * (plus the time an upload takes) old, so that a bounded changelog, which keeps at least {@value
 * dev.backbone.config.BackboneConfig#RETENTION_SNAPSHOT_INTERVALS} intervals of records, still
 * holds every record after it. So a store is archived when its newest archived snapshot (looked up
 * in the archive the first time, so a restarted node does not upload everything again) is an
 * interval old; a failed upload is tried again at the next tick, not an interval later, and
 * counted; the age of the oldest newest snapshot among the node's active stores is exported ({@link
 * #oldestNewestAge()}) to alert on. Only actives archive (a standby's copy would be the same data
 * later), one store at a time on one thread, so the archive's traffic stays bounded.
 *
 * <p>A snapshot is cut by the node's lender ({@code SnapshotLender#cutCurrent}), so its {@code
 * dataAsOf} is current even for a store that has written nothing for hours: an install refuses a
 * snapshot whose data is older than the changelog's {@code delete.retention.ms}.
 */
public final class SnapshotSchedule implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SnapshotSchedule.class);

  /** How often the schedule looks for stores due, at most (a shorter interval looks as often). */
  static final Duration MAX_TICK = Duration.ofSeconds(10);

  private final SnapshotArchive archive;
  private final Duration interval;
  private final int keep;
  private final Supplier<List<SnapshotStore>> activeStores;
  private final Function<SnapshotStore, Snapshot> cutter;
  private final Clock clock;
  private final ScheduledExecutorService thread;
  private final Map<Key, Archived> newest = new ConcurrentHashMap<>();
  private final AtomicLong uploads = new AtomicLong();
  private final AtomicLong bytesSent = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile List<SnapshotStore> lastActive = List.of();

  /**
   * @param archive where snapshots go
   * @param interval {@code backbone.snapshot.interval.ms}
   * @param keep {@code backbone.archive.keep.snapshots}
   * @param activeStores the Backbone stores of the tasks active on this node now
   * @param cutter cuts a snapshot of a store into its own snapshot directory
   * @param clock the time
   */
  public SnapshotSchedule(
      SnapshotArchive archive,
      Duration interval,
      int keep,
      Supplier<List<SnapshotStore>> activeStores,
      Function<SnapshotStore, Snapshot> cutter,
      Clock clock) {
    this.archive = Objects.requireNonNull(archive, "archive");
    this.interval = Objects.requireNonNull(interval, "interval");
    if (keep < 1) {
      throw new IllegalArgumentException("keep at least 1 snapshot, not " + keep);
    }
    this.keep = keep;
    this.activeStores = Objects.requireNonNull(activeStores, "activeStores");
    this.cutter = Objects.requireNonNull(cutter, "cutter");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.thread =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "backbone-snapshot-schedule");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts archiving: a first look at once, then every tick. */
  public void start() {
    long tick = Math.min(interval.toMillis(), MAX_TICK.toMillis());
    thread.scheduleWithFixedDelay(this::runSafely, 0, tick, TimeUnit.MILLISECONDS);
  }

  private void runSafely() {
    try {
      archiveDue();
    } catch (RuntimeException e) {
      log.warn("the snapshot schedule failed a round; it runs again at the next tick", e);
    }
  }

  /**
   * Archives every active store whose newest archived snapshot is an interval old (or that has
   * none). Runs on the schedule's thread; tests call it directly.
   *
   * @return the stores archived in this round
   */
  public List<ArchivedSnapshot> archiveDue() {
    List<SnapshotStore> stores = activeStores.get();
    lastActive = List.copyOf(stores);
    List<ArchivedSnapshot> done = new ArrayList<>();
    for (SnapshotStore store : stores) {
      if (Thread.currentThread().isInterrupted()) {
        break;
      }
      Key key = Key.of(store);
      Instant now = clock.instant();
      Archived last = newest.computeIfAbsent(key, k -> lookUp(k).orElse(Archived.NEVER));
      if (last != Archived.NEVER && last.createdAt().plus(interval).isAfter(now)) {
        continue;
      }
      archiveOne(store, key).ifPresent(done::add);
    }
    return done;
  }

  /**
   * Archives every active store now, due or not, within {@code timeout}: what a node does as it
   * shuts down cleanly, with its processing paused, so that the archive holds everything its
   * changelogs hold however long the cluster then stays down (retention keeps deleting by time
   * while no node runs).
   *
   * @return the stores archived
   */
  public List<ArchivedSnapshot> archiveAll(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<SnapshotStore> stores = activeStores.get();
    lastActive = List.copyOf(stores);
    List<ArchivedSnapshot> done = new ArrayList<>();
    for (SnapshotStore store : stores) {
      if (System.nanoTime() > deadline) {
        log.warn(
            "the final archive of this node's stores ran out of time after {} of {} stores; the"
                + " others' newest archived snapshots are older",
            done.size(),
            stores.size());
        break;
      }
      archiveOne(store, Key.of(store)).ifPresent(done::add);
    }
    return done;
  }

  private Optional<Archived> lookUp(Key key) {
    try {
      return archive.list(key.applicationId(), key.taskId(), key.store()).stream()
          .findFirst()
          .map(a -> new Archived(a.manifest().createdAt(), a.id()));
    } catch (RuntimeException e) {
      log.info(
          "cannot list the archived snapshots of {} ({}); archiving it now", key, e.toString());
      return Optional.empty();
    }
  }

  private Optional<ArchivedSnapshot> archiveOne(SnapshotStore store, Key key) {
    Snapshot snapshot = null;
    // The age counts from before the cut: no later than the snapshot's own createdAt.
    Instant cutAt = clock.instant();
    try {
      snapshot = cutter.apply(store);
      UploadResult result = archive.upload(snapshot);
      uploads.incrementAndGet();
      bytesSent.addAndGet(result.bytesSent());
      newest.put(key, new Archived(cutAt, result.snapshot().id()));
      RetainResult retained =
          archive.retainNewest(key.applicationId(), key.taskId(), key.store(), keep);
      log.info(
          "archived store {} task {} ({}) to {}: {} files ({} bytes) sent, {} already there, in {}"
              + " ms; {} older snapshots deleted",
          key.store(),
          key.taskId(),
          key.applicationId(),
          archive.describe(),
          result.filesSent(),
          result.bytesSent(),
          result.filesPresent(),
          result.took().toMillis(),
          retained.snapshotsDeleted());
      return Optional.of(result.snapshot());
    } catch (RuntimeException e) {
      failures.incrementAndGet();
      log.warn(
          "could not archive store {} task {} ({}) to {}; tried again at the next tick: {}",
          key.store(),
          key.taskId(),
          key.applicationId(),
          archive.describe(),
          e.getMessage());
      return Optional.empty();
    } finally {
      if (snapshot != null) {
        Exception failure = Directories.deleteRecursively(snapshot.directory());
        if (failure != null) {
          log.warn(
              "could not delete the archived local snapshot {}", snapshot.directory(), failure);
        }
      }
    }
  }

  /** Snapshots uploaded since the node started. */
  public long uploads() {
    return uploads.get();
  }

  /** Bytes sent to the archive since the node started (files it lacked). */
  public long bytesSent() {
    return bytesSent.get();
  }

  /** Uploads that failed since the node started (each is tried again at the next tick). */
  public long failures() {
    return failures.get();
  }

  /**
   * Among the stores active here at the last round, the age of the one whose newest archived
   * snapshot is oldest: what a bounded changelog's retention must stay well above. Empty when no
   * store is active; {@code Long.MAX_VALUE} milliseconds when one has no archived snapshot yet.
   */
  public Optional<Duration> oldestNewestAge() {
    Instant now = clock.instant();
    return lastActive.stream()
        .map(s -> newest.getOrDefault(Key.of(s), Archived.NEVER))
        .map(a -> a == Archived.NEVER ? Duration.ofMillis(Long.MAX_VALUE) : age(a, now))
        .max(Comparator.naturalOrder());
  }

  private static Duration age(Archived a, Instant now) {
    Duration d = Duration.between(a.createdAt(), now);
    return d.isNegative() ? Duration.ZERO : d;
  }

  /**
   * The newest archived snapshot this node knows of each store it archives, for {@code
   * /v1/cluster}.
   */
  public List<Status> statuses() {
    List<Status> out = new ArrayList<>();
    newest.forEach(
        (k, a) ->
            out.add(
                new Status(
                    k.applicationId(),
                    k.taskId(),
                    k.store(),
                    a == Archived.NEVER ? null : a.createdAt(),
                    a == Archived.NEVER ? null : a.id())));
    out.sort(Comparator.comparing(Status::applicationId).thenComparing(Status::task));
    return out;
  }

  /**
   * One store's newest archived snapshot as this node knows it.
   *
   * @param applicationId the store's application
   * @param task its task
   * @param store its name
   * @param newest when it was cut, null if none is archived yet
   * @param id its id in the archive, null if none
   */
  public record Status(
      String applicationId, String task, String store, Instant newest, String id) {}

  @Override
  public void close() {
    thread.shutdownNow();
    try {
      thread.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private record Key(String applicationId, String taskId, String store) {
    static Key of(SnapshotStore s) {
      return new Key(s.applicationId(), s.taskId().toString(), s.name());
    }
  }

  private record Archived(Instant createdAt, String id) {
    static final Archived NEVER = new Archived(Instant.EPOCH, "");
  }
}
