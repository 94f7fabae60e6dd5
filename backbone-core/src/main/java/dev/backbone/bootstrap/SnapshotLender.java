package dev.backbone.bootstrap;

import dev.backbone.bootstrap.internals.Directories;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotStore;
import dev.backbone.store.SnapshotStores;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.TaskId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshots one node lends to its peers for cold bootstrap: it cuts a snapshot of an open store
 * on request (or hands out one it cut moments ago), keeps it while peers copy its files, and
 * deletes it when every borrower has released it or its lease has run out.
 *
 * <p>What must hold:
 *
 * <ul>
 *   <li><b>Only the manifest's files are served.</b> {@link #file} resolves a name against the
 *       lease's manifest, never against the file system: a name not listed (the manifest itself,
 *       {@code ../x}, an absolute path) is refused, so a borrower can read nothing else.
 *   <li><b>A lent snapshot does not change or vanish while leased</b>, except with its store's task
 *       directory (Kafka Streams wiping a corrupted task): a borrower then gets {@code
 *       SNAPSHOT_GONE} and tries another peer. Snapshot files are hard links of immutable SST
 *       files, so a live store's compactions never touch them.
 *   <li><b>Bounded disk.</b> At most {@code maxSnapshots} snapshots are held at once; beyond that a
 *       request is answered {@code SNAPSHOTS_BUSY} (retriable) rather than cutting more. A lease
 *       that no borrower releases expires after {@code leaseTtl}.
 *   <li><b>Reuse is safe.</b> A snapshot is a committed (data, offset) pair whatever its age; the
 *       borrower replays the changelog from its offset. Reusing one cut within {@code reuseWithin}
 *       only lengthens that tail a little, and saves a flush per concurrent borrower.
 *   <li><b>A {@code dataAsOf} is vouched for only when it holds.</b> A borrower installs only a
 *       snapshot that shows its data is younger than the changelog's {@code delete.retention.ms}
 *       ({@code SnapshotAge}). A store's own {@code dataAsOf} is its last commit of processing
 *       writes, which a standby never makes, and which an idle active made long ago. For those,
 *       with a {@link ChangelogProbe}, the lender establishes one before the cut: at time {@code
 *       t0} it reads the changelog's end offsets {@code e}; every record written before {@code t0}
 *       lies below {@code e}. It reads, {@code read_committed}, the records between what the store
 *       has applied and {@code e}, waits (briefly) until the store has applied them too, and then
 *       cuts: the snapshot holds every record written before {@code t0}, so every record it lacks
 *       was written after, and a tombstone among them is kept at least {@code delete.retention.ms}
 *       after that. The manifest says {@code t0} minus {@link #ATTEST_MARGIN} (a record
 *       acknowledged just before {@code t0} may still be below the high watermark a moment later).
 *       If the store does not catch up in time, or the changelog cannot be read, the snapshot
 *       carries the store's own {@code dataAsOf}, and a borrower that cannot install it tries
 *       another replica.
 * </ul>
 *
 * <p>Thread-safety: every method may be called from any thread (HTTP handlers); the store's {@code
 * snapshot()} is itself safe to call while its stream thread writes.
 */
public final class SnapshotLender implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SnapshotLender.class);

  /** Subtracted from the time at which the changelog's end was read, in a vouched dataAsOf. */
  public static final Duration ATTEST_MARGIN = Duration.ofMinutes(1);

  /** A store whose own dataAsOf is this recent is lent with it, without reading the changelog. */
  static final Duration OWN_DATA_AS_OF_FRESH = Duration.ofMinutes(1);

  /** How long a lend reads the changelog, and waits for the store to apply what it read. */
  static final Duration ATTEST_TIMEOUT = Duration.ofSeconds(3);

  private final SnapshotStores stores;
  private final Settings settings;
  private final Clock clock;
  private final ChangelogProbe probe;
  private final Map<String, Lease> leases = new LinkedHashMap<>();

  /**
   * Snapshots built for stores that do not exist yet (a rescale's next generation), lent like a cut
   * snapshot to the new tasks' stores, by application, task and store.
   */
  private final Map<StagedKey, Snapshot> staged = new ConcurrentHashMap<>();

  /**
   * How the lender behaves.
   *
   * @param maxSnapshots snapshots held at once, at least 1
   * @param leaseTtl how long a snapshot is kept after its last lend if nobody releases it
   * @param reuseWithin a snapshot cut at most this long ago is handed out again instead of cutting
   *     a new one; zero never reuses
   */
  public record Settings(int maxSnapshots, Duration leaseTtl, Duration reuseWithin) {
    /** Checks the bounds. */
    public Settings {
      if (maxSnapshots < 1) {
        throw new IllegalArgumentException("maxSnapshots must be at least 1, got " + maxSnapshots);
      }
      Objects.requireNonNull(leaseTtl, "leaseTtl");
      Objects.requireNonNull(reuseWithin, "reuseWithin");
      if (leaseTtl.isNegative() || leaseTtl.isZero()) {
        throw new IllegalArgumentException("leaseTtl must be positive, got " + leaseTtl);
      }
      if (reuseWithin.isNegative()) {
        throw new IllegalArgumentException("reuseWithin must not be negative, got " + reuseWithin);
      }
    }
  }

  /**
   * A lent snapshot as a borrower sees it.
   *
   * @param id the snapshot's id, unique within this node
   * @param manifest what it holds
   * @param manifestJson the manifest file's text, as the borrower writes it into its copy
   * @param expiresAt when it is deleted unless lent again
   */
  public record Loan(
      String id, SnapshotManifest manifest, String manifestJson, Instant expiresAt) {}

  /**
   * @param stores the node's open stores
   * @param settings limits and timings
   * @param clock the time source (lease expiry, reuse)
   */
  public SnapshotLender(SnapshotStores stores, Settings settings, Clock clock) {
    this(stores, settings, clock, null);
  }

  /**
   * @param stores the node's open stores
   * @param settings limits and timings
   * @param clock the time source (lease expiry, reuse, vouched dataAsOf)
   * @param probe reads the changelogs to vouch for the freshness of a standby's (or an idle
   *     active's) snapshot; null lends every snapshot with its store's own {@code dataAsOf}
   */
  public SnapshotLender(
      SnapshotStores stores, Settings settings, Clock clock, ChangelogProbe probe) {
    this.stores = Objects.requireNonNull(stores, "stores");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.probe = probe;
  }

  /**
   * Lends a snapshot of a store of this node: one cut within {@code reuseWithin}, or a new one.
   *
   * @throws RetriableBackboneException {@code STORE_NOT_HERE} if this node has no open store of
   *     that task (it moved, or is still initializing), {@code SNAPSHOTS_BUSY} if {@code
   *     maxSnapshots} are held, {@code STORE_CLOSED} / {@code STORE_DIRTY} from the store
   * @throws FatalBackboneException {@code SNAPSHOT_FAILED} if RocksDB or the disk refused
   */
  public Loan lend(String applicationId, TaskId taskId, String storeName) {
    Optional<SnapshotStore> open = stores.find(applicationId, taskId, storeName);
    Snapshot stagedSnapshot = staged.get(new StagedKey(applicationId, taskId, storeName));
    if (open.isEmpty() && stagedSnapshot != null) {
      return lendStaged(taskId, storeName, stagedSnapshot);
    }
    SnapshotStore store =
        open.orElseThrow(
            () ->
                new RetriableBackboneException(
                    "STORE_NOT_HERE",
                    "this node has no open store '"
                        + storeName
                        + "' of task "
                        + taskId
                        + " in application '"
                        + applicationId
                        + "' (the task moved, or is still initializing here); ask the"
                        + " task's current replicas from the routing table"));
    Instant now = clock.instant();
    String reservation = "reserved:" + UUID.randomUUID();
    synchronized (this) {
      expire(now);
      Optional<Lease> reusable = reusable(store, now);
      if (reusable.isPresent()) {
        Lease lease = reusable.get();
        lease.borrowers++;
        lease.expiresAt = now.plus(settings.leaseTtl());
        return lease.loan();
      }
      if (cutLeases() >= settings.maxSnapshots()) {
        throw new RetriableBackboneException(
            "SNAPSHOTS_BUSY",
            "this node already lends "
                + leases.size()
                + " snapshots (backbone.bootstrap.max.snapshots); retry later or ask another"
                + " replica of task "
                + taskId);
      }
      // Reserve the slot before cutting outside the lock, so concurrent lends stay within bounds.
      leases.put(reservation, null);
    }
    Snapshot snapshot;
    String manifestJson;
    try {
      snapshot = cutForLend(store);
      manifestJson = readManifest(snapshot);
    } finally {
      synchronized (this) {
        leases.remove(reservation);
      }
    }
    synchronized (this) {
      Lease lease =
          new Lease(
              UUID.randomUUID().toString(),
              store,
              store.taskId(),
              store.name(),
              snapshot,
              manifestJson,
              now,
              false);
      lease.borrowers = 1;
      lease.expiresAt = clock.instant().plus(settings.leaseTtl());
      leases.put(lease.id, lease);
      log.info(
          "lending snapshot {} of store {} task {} ({} files, {} bytes, changelog offsets {},"
              + " data as of {})",
          lease.id,
          storeName,
          taskId,
          snapshot.manifest().files().size(),
          snapshot.manifest().totalBytes(),
          snapshot.manifest().changelogOffsets(),
          snapshot.manifest().dataAsOf());
      return lease.loan();
    }
  }

  /**
   * Lends {@code snapshot} to the stores of {@code taskId} of {@code applicationId} until {@link
   * #unstage}: while this node has no open store of that task, a lend answers it (a rescale's new
   * task, whose first state was built here). The lender never deletes a staged snapshot's files; a
   * borrower's release only ends its lease.
   */
  public void stage(String applicationId, TaskId taskId, String storeName, Snapshot snapshot) {
    staged.put(new StagedKey(applicationId, taskId, storeName), Objects.requireNonNull(snapshot));
    log.info(
        "staged snapshot of store {} task {} of application {} ({} bytes, changelog offsets {})",
        storeName,
        taskId,
        applicationId,
        snapshot.manifest().totalBytes(),
        snapshot.manifest().changelogOffsets());
  }

  /** Stops lending every staged snapshot of {@code applicationId}; returns their directories. */
  public List<Path> unstage(String applicationId) {
    List<Path> directories = new ArrayList<>();
    staged
        .entrySet()
        .removeIf(
            e -> {
              if (e.getKey().applicationId().equals(applicationId)) {
                directories.add(e.getValue().directory());
                return true;
              }
              return false;
            });
    return directories;
  }

  /** The staged snapshots of {@code applicationId}, by task (for status). */
  public Map<TaskId, Snapshot> staged(String applicationId) {
    Map<TaskId, Snapshot> out = new TreeMap<>();
    staged.forEach(
        (k, v) -> {
          if (k.applicationId().equals(applicationId)) {
            out.put(k.taskId(), v);
          }
        });
    return out;
  }

  private Loan lendStaged(TaskId taskId, String storeName, Snapshot snapshot) {
    String manifestJson = readManifest(snapshot);
    synchronized (this) {
      expire(clock.instant());
      Lease lease =
          new Lease(
              UUID.randomUUID().toString(),
              null,
              taskId,
              storeName,
              snapshot,
              manifestJson,
              clock.instant(),
              true);
      lease.borrowers = 1;
      lease.expiresAt = clock.instant().plus(settings.leaseTtl());
      leases.put(lease.id, lease);
      log.info("lending staged snapshot {} of store {} task {}", lease.id, storeName, taskId);
      return lease.loan();
    }
  }

  /** Leases of snapshots cut for them (staged ones take no disk of their own); monitor held. */
  private long cutLeases() {
    return leases.values().stream().filter(l -> l == null || !l.staged).count();
  }

  /**
   * One file of a lent snapshot, by a name its manifest lists. The snapshot must have been cut of
   * that task's store: an id is not a key to another store's files.
   *
   * @throws RetriableBackboneException {@code SNAPSHOT_GONE} if the snapshot is no longer lent, or
   *     its files were removed with the task directory
   * @throws FatalBackboneException {@code SNAPSHOT_FILE_UNKNOWN} if the manifest does not list the
   *     name
   */
  public LentFile file(String snapshotId, String name, TaskId taskId, String storeName) {
    Lease lease;
    synchronized (this) {
      expire(clock.instant());
      lease = leases.get(snapshotId);
    }
    if (lease == null || !lease.taskId.equals(taskId) || !lease.storeName.equals(storeName)) {
      throw gone(snapshotId);
    }
    SnapshotManifest.SnapshotFile listed =
        lease.snapshot.manifest().files().stream()
            .filter(f -> f.name().equals(name))
            .findFirst()
            .orElseThrow(
                () ->
                    new FatalBackboneException(
                        "SNAPSHOT_FILE_UNKNOWN",
                        "snapshot "
                            + snapshotId
                            + " has no file named '"
                            + abbreviate(name)
                            + "'; only the files its manifest lists can be fetched"));
    Path path = lease.snapshot.directory().resolve(listed.name());
    if (!Files.isRegularFile(path)) {
      throw gone(snapshotId);
    }
    return new LentFile(path, listed);
  }

  /**
   * A file a borrower may read.
   *
   * @param path where it is
   * @param listed its manifest entry (size, checksum)
   */
  public record LentFile(Path path, SnapshotManifest.SnapshotFile listed) {}

  /**
   * A borrower is done with a snapshot; the snapshot is deleted once no borrower holds it.
   * Releasing an unknown or expired id does nothing (a retried release, or one after expiry).
   */
  public void release(String snapshotId) {
    Lease done = null;
    synchronized (this) {
      Lease lease = leases.get(snapshotId);
      if (lease != null && --lease.borrowers <= 0) {
        leases.remove(snapshotId);
        done = lease;
      }
    }
    if (done != null) {
      delete(done, "released");
    }
  }

  /** The snapshots lent now, oldest first. */
  public synchronized List<Loan> loans() {
    expire(clock.instant());
    List<Loan> loans = new ArrayList<>();
    for (Lease lease : leases.values()) {
      if (lease != null) {
        loans.add(lease.loan());
      }
    }
    return loans;
  }

  /** Deletes every lent snapshot. */
  @Override
  public void close() {
    List<Lease> all;
    synchronized (this) {
      all = leases.values().stream().filter(Objects::nonNull).toList();
      leases.clear();
    }
    all.forEach(lease -> delete(lease, "lender closed"));
  }

  /**
   * Cuts a snapshot of a store into its own snapshot directory, vouching for its freshness as a
   * lend does (see the class comment): its manifest's {@code dataAsOf} is now, or close to it, when
   * the store holds every changelog record written so far, even if it has not committed writes of
   * its own for a while. Used for lends and for the archive's snapshots; the caller deletes the
   * snapshot when done with it.
   */
  public Snapshot cutCurrent(SnapshotStore store) {
    return cut(store, attest(store, true));
  }

  /** A lend's cut: a store whose own {@code dataAsOf} is fresh is cut without reading anything. */
  private Snapshot cutForLend(SnapshotStore store) {
    return cut(store, attest(store, false));
  }

  private static Snapshot cut(SnapshotStore store, Optional<Attestation> attestation) {
    return attestation.isPresent()
        ? store.snapshot(
            attestation.get().through(), attestation.get().ends(), attestation.get().asOf())
        : store.snapshot();
  }

  /**
   * What a lend vouches for: every record written before {@code asOf} is through {@code through},
   * and no record lies between {@code through} and {@code ends} (the end offsets read first).
   */
  record Attestation(
      Map<TopicPartition, Long> through, Map<TopicPartition, Long> ends, Instant asOf) {}

  /**
   * Establishes a {@code dataAsOf} for a store whose own is missing or old (see the class comment);
   * empty if its own is fresh, there is no probe, or it cannot be established now.
   */
  Optional<Attestation> attest(SnapshotStore store) {
    return attest(store, false);
  }

  /**
   * As {@link #attest(SnapshotStore)}; with {@code always}, also for a store whose own {@code
   * dataAsOf} is fresh: the archive's snapshots want the end offsets it establishes, so that an
   * install restores after the last transaction's marker (which retention may delete).
   */
  Optional<Attestation> attest(SnapshotStore store, boolean always) {
    if (probe == null) {
      return Optional.empty();
    }
    try {
      Optional<Instant> own = store.dataAsOf();
      if (!always
          && own.isPresent()
          && own.get().isAfter(clock.instant().minus(OWN_DATA_AS_OF_FRESH))) {
        return Optional.empty();
      }
      Map<TopicPartition, Long> committed = store.committedOffsets();
      if (committed.isEmpty() || committed.values().stream().anyMatch(o -> o < 0)) {
        return Optional.empty(); // no offset to restore from: the borrower replays it all anyway
      }
      Set<TopicPartition> changelogs = committed.keySet();
      long deadline = System.nanoTime() + ATTEST_TIMEOUT.toNanos();
      Instant t0 = clock.instant();
      Map<TopicPartition, Long> ends = probe.endOffsets(changelogs);
      Map<TopicPartition, Long> applied = store.appliedOffsets();
      Map<TopicPartition, Long> through = new HashMap<>();
      for (TopicPartition tp : changelogs) {
        long from = applied.getOrDefault(tp, -1L) + 1;
        long end = ends.get(tp);
        OptionalLong last =
            from >= end
                ? OptionalLong.empty()
                : probe.lastRecordBetween(tp, from, end, remaining(deadline));
        through.put(tp, last.orElse(from - 1));
      }
      while (!SnapshotStore.covers(store.appliedOffsets(), through)) {
        if (System.nanoTime() >= deadline) {
          log.info(
              "store {} task {} has not applied its changelog through {} within {} ms; lending its"
                  + " snapshot with its own data-as-of {}",
              store.name(),
              store.taskId(),
              through,
              ATTEST_TIMEOUT.toMillis(),
              own.orElse(null));
          return Optional.empty();
        }
        Thread.sleep(10); // the store's restore thread catches up; nothing to wait on but time
      }
      return Optional.of(
          new Attestation(Map.copyOf(through), Map.copyOf(ends), t0.minus(ATTEST_MARGIN)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } catch (RuntimeException e) {
      log.info(
          "cannot vouch for the freshness of store {} task {} now ({}); lending its snapshot with"
              + " its own data-as-of",
          store.name(),
          store.taskId(),
          e.toString());
      return Optional.empty();
    }
  }

  private static Duration remaining(long deadlineNanos) {
    return Duration.ofNanos(Math.max(1_000_000, deadlineNanos - System.nanoTime()));
  }

  private Optional<Lease> reusable(SnapshotStore store, Instant now) {
    if (settings.reuseWithin().isZero()) {
      return Optional.empty();
    }
    return leases.values().stream()
        .filter(Objects::nonNull)
        .filter(l -> l.store == store)
        .filter(l -> !l.cutAt.plus(settings.reuseWithin()).isBefore(now))
        .filter(l -> Files.isDirectory(l.snapshot.directory()))
        .max(Comparator.comparing(l -> l.cutAt));
  }

  /** Removes expired leases; the caller holds the monitor. Deletion happens outside it. */
  private void expire(Instant now) {
    List<Lease> expired = new ArrayList<>();
    leases
        .values()
        .removeIf(
            lease -> {
              if (lease != null && lease.expiresAt.isBefore(now)) {
                expired.add(lease);
                return true;
              }
              return false;
            });
    if (!expired.isEmpty()) {
      // Deleting a few hard links is quick; do it here rather than keep a thread for it.
      expired.forEach(lease -> delete(lease, "lease expired"));
    }
  }

  private static void delete(Lease lease, String why) {
    if (lease.staged) {
      return; // staged files stay until unstaged
    }
    Path dir = lease.snapshot.directory();
    Exception failure = Directories.deleteRecursively(dir);
    if (failure == null) {
      log.info("deleted lent snapshot {} ({}): {}", lease.id, why, dir);
    } else {
      log.warn("could not delete lent snapshot {} at {} ({}): {}", lease.id, dir, why, failure);
    }
  }

  private static String readManifest(Snapshot snapshot) {
    try {
      return Files.readString(snapshot.directory().resolve(SnapshotManifest.FILE_NAME));
    } catch (IOException e) {
      throw new FatalBackboneException(
          "SNAPSHOT_FAILED",
          "cannot read the manifest of the snapshot just cut at "
              + snapshot.directory()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static RetriableBackboneException gone(String snapshotId) {
    return new RetriableBackboneException(
        "SNAPSHOT_GONE",
        "snapshot "
            + abbreviate(snapshotId)
            + " is no longer lent by this node (released, expired, or its task was wiped); ask"
            + " for a new snapshot");
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }

  private record StagedKey(String applicationId, TaskId taskId, String storeName) {}

  /** A lent snapshot; mutable fields guarded by the lender's monitor. */
  private static final class Lease {
    final String id;
    final SnapshotStore store; // null for a staged snapshot
    final TaskId taskId;
    final String storeName;
    final Snapshot snapshot;
    final String manifestJson;
    final Instant cutAt;
    final boolean staged;
    int borrowers;
    Instant expiresAt;

    Lease(
        String id,
        SnapshotStore store,
        TaskId taskId,
        String storeName,
        Snapshot snapshot,
        String manifestJson,
        Instant cutAt,
        boolean staged) {
      this.id = id;
      this.store = store;
      this.taskId = taskId;
      this.storeName = storeName;
      this.staged = staged;
      this.snapshot = snapshot;
      this.manifestJson = manifestJson;
      this.cutAt = cutAt;
    }

    Loan loan() {
      return new Loan(id, snapshot.manifest(), manifestJson, expiresAt);
    }
  }
}
