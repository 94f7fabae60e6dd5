package dev.backbone.bootstrap;

import dev.backbone.bootstrap.internals.Directories;
import dev.backbone.errors.BackboneException;
import dev.backbone.errors.RetriableBackboneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.streams.processor.TaskId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the cold bootstraps of one node, off the stream threads.
 *
 * <p>Why off the stream thread: a store learns that it has no local state inside {@code init()},
 * which Kafka Streams calls on the stream thread that also processes the thread's other tasks and
 * must poll within {@code max.poll.interval.ms}. Copying gigabytes there would stall them all. So
 * the first {@code init()} of an empty store only starts the copy here and then fails with Kafka
 * Streams' {@code LockException}; Kafka Streams keeps the task pending and retries its
 * initialization with a backoff of 1 s doubling to 10 s ({@code TaskManager#addTaskToStateUpdater},
 * {@code BackoffRecord}), with no deadline, while the thread goes on with its other tasks. (A
 * {@code TimeoutException} would be retried too, but counts against {@code task.timeout.ms}.) The
 * store is not registered with Kafka Streams until an {@code init()} returns, and Kafka Streams
 * calls {@code init()} again only for stores it has not registered ({@code
 * ProcessorStateManager#registerStateStores}), so each retry is a fresh start of that one store.
 * Once the copy is complete, the next {@code init()} installs it and returns; Kafka Streams then
 * reads the snapshot's offset as the store's committed offset and replays only the tail.
 *
 * <p>Sources in order: the peers the plan names, then the node's snapshot archive when the plan
 * allows it ({@link BootstrapSource#archive()}: when no peer holds the task, or every peer failed),
 * then the changelog. A copy that fails everywhere is reported once: that {@code init()} goes on
 * with the empty store, and Kafka Streams restores it from the changelog; unless the changelog
 * lacks records the store needs, when the store waits and the next {@code init()} plans again.
 *
 * <p>The node passes its instance to its stages under {@link #CONFIG}.
 */
public final class ColdBootstrap implements AutoCloseable {
  /** The Kafka Streams configuration key under which a node passes its instance. */
  public static final String CONFIG = "dev.backbone.bootstrap.cold";

  private static final Logger log = LoggerFactory.getLogger(ColdBootstrap.class);
  private static final Duration PLAN_WAIT = Duration.ofMillis(500);

  /** What a copy's source is called when it came from the node's snapshot archive. */
  public static final String ARCHIVE = "archive";

  /** Tries of a copy whose every peer was up but not ready to lend, and the backoff step. */
  static final int NOT_READY_ATTEMPTS = 4;

  static final Duration NOT_READY_BACKOFF = Duration.ofMillis(500);

  /**
   * A job no {@code init()} asked about for this long belongs to a task that moved away (Kafka
   * Streams retries a pending task's initialization at least every 15 s): it is cancelled, its
   * finished copy deleted.
   */
  public static final Duration DEFAULT_ABANDON_AFTER = Duration.ofMinutes(2);

  private final BootstrapSource source;
  private final ExecutorService executor;
  private final Map<Key, Job> jobs = new ConcurrentHashMap<>();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong fellBack = new AtomicLong();
  private final AtomicLong abandoned = new AtomicLong();
  private final AtomicLong blocked = new AtomicLong();
  private final AtomicLong fromArchive = new AtomicLong();
  private final Duration abandonAfter;
  private final Duration finishWait;
  private final ScheduledExecutorService sweeper;

  /**
   * @param source where copies come from
   * @param concurrentBootstraps stores copied at once on this node
   */
  public ColdBootstrap(BootstrapSource source, int concurrentBootstraps) {
    this(source, concurrentBootstraps, DEFAULT_ABANDON_AFTER, Duration.ZERO);
  }

  /**
   * @param source where copies come from
   * @param concurrentBootstraps stores copied at once on this node
   * @param abandonAfter a job no {@code init()} polled for this long is cancelled and its copy
   *     deleted
   * @param finishWait how long one poll may wait, once per copy, for a copy whose ETA is within it
   *     (see {@link dev.backbone.config.BackboneConfig#BOOTSTRAP_INIT_WAIT_MS_CONFIG}); zero never
   */
  public ColdBootstrap(
      BootstrapSource source,
      int concurrentBootstraps,
      Duration abandonAfter,
      Duration finishWait) {
    this.source = Objects.requireNonNull(source, "source");
    this.abandonAfter = Objects.requireNonNull(abandonAfter, "abandonAfter");
    this.finishWait = Objects.requireNonNull(finishWait, "finishWait");
    this.sweeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "backbone-cold-bootstrap-sweeper");
              t.setDaemon(true);
              return t;
            });
    long every = Math.max(100, Math.min(10_000, abandonAfter.toMillis() / 2));
    sweeper.scheduleWithFixedDelay(this::abandonUnpolled, every, every, TimeUnit.MILLISECONDS);
    this.executor =
        Executors.newFixedThreadPool(
            concurrentBootstraps,
            r -> {
              Thread t = new Thread(r, "backbone-cold-bootstrap");
              t.setDaemon(true);
              return t;
            });
  }

  /** The instance a node passed in a store's application configs, if any. */
  public static Optional<ColdBootstrap> in(Map<String, Object> appConfigs) {
    return appConfigs.get(CONFIG) instanceof ColdBootstrap b ? Optional.of(b) : Optional.empty();
  }

  /** Where a store stands. */
  public sealed interface Outcome {
    /** No copy: go on and restore from the changelog (no plan, or the copy failed). */
    record Restore(String why) implements Outcome {}

    /** The copy runs; fail {@code init()} so Kafka Streams retries it later. */
    record InProgress(String status) implements Outcome {}

    /**
     * The store cannot be restored from its changelog and no copy can be made now ({@link
     * ChangelogTruncatedException}): fail {@code init()} with {@code why}; the next poll plans
     * again.
     */
    record Blocked(String why) implements Outcome {}

    /**
     * A complete copy to install, then {@link ColdBootstrap#installed} or {@link
     * ColdBootstrap#installFailed}.
     */
    record Ready(
        Path snapshot,
        Duration changelogDeleteRetention,
        PeerSnapshotFetcher.Result result,
        boolean required)
        implements Outcome {}
  }

  /**
   * Called from a store's {@code init()} when its local state holds no committed offset: starts a
   * copy if none runs, else says how the running one stands. Never blocks on the transfer.
   *
   * @param request the store
   * @param stagingParent where the copy goes (inside the task directory, on the store's disk)
   */
  public Outcome poll(BootstrapSource.Request request, Path stagingParent) {
    Key key = new Key(request.applicationId(), request.taskId(), request.storeName());
    Job job = jobs.computeIfAbsent(key, k -> start(request, stagingParent));
    job.lastPolledNanos = System.nanoTime();
    // Most empty stores have nobody to copy from (a new application, a new task): the plan says
    // so from memory at once, and init() should not fail for it. Wait a moment for the plan.
    job.awaitPlan(PLAN_WAIT);
    Outcome outcome = job.outcome();
    if (outcome instanceof Outcome.InProgress && job.aboutToFinish(finishWait)) {
      // Failing now would wait for Kafka Streams' next retry, 1-5 s away (TaskManager's
      // BackoffRecord); a copy this close to done is worth one bounded wait instead.
      job.awaitFinished(finishWait);
      outcome = job.outcome();
    }
    if (outcome instanceof Outcome.Restore) {
      jobs.remove(key, job);
    }
    if (outcome instanceof Outcome.Blocked blocked) {
      jobs.remove(key, job);
      this.blocked.incrementAndGet();
      log.error("store {} task {} waits: {}", request.storeName(), request.taskId(), blocked.why());
    }
    return outcome;
  }

  /** The copy was installed: forget the job and delete the staging copy. */
  public void installed(BootstrapSource.Request request, Outcome.Ready ready) {
    jobs.remove(new Key(request.applicationId(), request.taskId(), request.storeName()));
    deleteQuietly(ready.snapshot());
    completed.incrementAndGet();
  }

  /**
   * The install refused the copy (too old, invalid): the store restores from the changelog, or for
   * a required copy waits for the next one.
   */
  public void installFailed(BootstrapSource.Request request, Outcome.Ready ready, Exception e) {
    jobs.remove(new Key(request.applicationId(), request.taskId(), request.storeName()));
    deleteQuietly(ready.snapshot());
    if (ready.required()) {
      blocked.incrementAndGet();
      log.error(
          "cold bootstrap of store {} task {}: the copy from {} could not be installed ({}); the"
              + " store cannot be restored from its changelog and waits for another copy",
          request.storeName(),
          request.taskId(),
          ready.result().from().nodeId(),
          e.getMessage());
      return;
    }
    fellBack.incrementAndGet();
    log.warn(
        "cold bootstrap of store {} task {}: the copy from {} could not be installed ({});"
            + " restoring from the changelog instead",
        request.storeName(),
        request.taskId(),
        ready.result().from().nodeId(),
        e.getMessage());
  }

  /** Stores filled from a peer's snapshot since the node started. */
  public long completed() {
    return completed.get();
  }

  /** Jobs cancelled (or finished copies deleted) because no {@code init()} asked for them. */
  public long abandoned() {
    return abandoned.get();
  }

  /**
   * Initializations refused because the store needs deleted changelog records and no copy could be
   * made ({@link Outcome.Blocked}).
   */
  public long blocked() {
    return blocked.get();
  }

  /** Copies taken from the snapshot archive (no peer could lend) since the node started. */
  public long fromArchive() {
    return fromArchive.get();
  }

  /** Stores that needed a copy and restored from the changelog instead. */
  public long fellBack() {
    return fellBack.get();
  }

  /**
   * Where one store's bootstrap stands, for {@code /v1/cluster?lags=true}.
   *
   * @param applicationId the store's application
   * @param task its task
   * @param store its name
   * @param phase {@code planning}, {@code copying} or {@code installing} (complete, waiting for
   *     Kafka Streams' next {@code init()} retry)
   * @param from the peer copied from, null while planning
   * @param bytesDone bytes copied
   * @param bytesTotal bytes of the snapshot, 0 while planning
   * @param bytesPerSecond rate since the copy started
   * @param etaSeconds seconds left at that rate, null when unknown
   */
  public record Status(
      String applicationId,
      String task,
      String store,
      String phase,
      String from,
      long bytesDone,
      long bytesTotal,
      double bytesPerSecond,
      Long etaSeconds) {}

  /** Every bootstrap of this node not yet installed or given up, in no particular order. */
  public List<Status> statuses() {
    List<Status> out = new ArrayList<>();
    jobs.forEach((key, job) -> out.add(job.status(key)));
    return out;
  }

  /** Copies running now. */
  public int running() {
    return (int)
        jobs.values().stream().filter(j -> j.outcome() instanceof Outcome.InProgress).count();
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
    executor.shutdownNow();
  }

  private Job start(BootstrapSource.Request request, Path stagingParent) {
    Job job = new Job();
    job.future = executor.submit(() -> job.run(request, stagingParent));
    return job;
  }

  /**
   * Drops the jobs of tasks that moved away: nobody would install their copy. An {@code init()}
   * that comes back later starts a fresh job; one that raced with this sweep and got the deleted
   * copy fails its install's checks and restores from the changelog.
   */
  private void abandonUnpolled() {
    long now = System.nanoTime();
    jobs.forEach(
        (key, job) -> {
          if (now - job.lastPolledNanos > abandonAfter.toNanos() && jobs.remove(key, job)) {
            Future<?> future = job.future;
            if (future != null) {
              future.cancel(true);
            }
            if (job.outcome instanceof Outcome.Ready ready) {
              deleteQuietly(ready.snapshot());
            }
            abandoned.incrementAndGet();
            log.info(
                "cold bootstrap of store {} task {}: no init() asked for it in {} s (the task moved"
                    + " away); {}",
                key.store(),
                key.taskId(),
                abandonAfter.toSeconds(),
                job.outcome instanceof Outcome.Ready
                    ? "deleted its finished copy"
                    : "cancelled the copy");
          }
        });
  }

  private record Key(String applicationId, TaskId taskId, String store) {}

  /** One store's copy; its outcome is published once, with the fields it reads. */
  private final class Job {
    private final PeerSnapshotFetcher.Progress progress = new PeerSnapshotFetcher.Progress();
    private volatile Outcome outcome = new Outcome.InProgress("planning");
    private volatile String from;
    private volatile long lastPolledNanos = System.nanoTime();
    private volatile Future<?> future;
    private boolean required;
    private String firstReason;

    /** A required copy that failed: the store waits rather than restore a truncated changelog. */
    private Outcome blockedBy(String failure) {
      return new Outcome.Blocked(
          "it cannot be restored from its changelog ("
              + firstReason
              + "), and the copy failed ("
              + failure
              + "); it is tried again at the next initialization");
    }

    Status status(Key key) {
      Outcome now = outcome;
      String phase =
          now instanceof Outcome.Ready ? "installing" : from == null ? "planning" : "copying";
      long done = progress.bytesDone();
      long total = progress.bytesTotal();
      double rate = progress.bytesPerSecond();
      Long eta =
          now instanceof Outcome.Ready
              ? Long.valueOf(0)
              : total > 0 && rate > 0
                  ? Long.valueOf((long) Math.ceil((total - done) / rate))
                  : null;
      return new Status(
          key.applicationId(),
          key.taskId().toString(),
          key.store(),
          phase,
          from,
          done,
          total,
          rate,
          eta);
    }

    private final CountDownLatch planned = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private boolean waitedForFinish;

    /** Whether the copy's ETA is within {@code wait}; true once per job at most. */
    synchronized boolean aboutToFinish(Duration wait) {
      if (waitedForFinish || wait.isZero() || from == null) {
        return false;
      }
      long total = progress.bytesTotal();
      double rate = progress.bytesPerSecond();
      if (total == 0 || rate <= 0) {
        return false;
      }
      double etaMillis = (total - progress.bytesDone()) / rate * 1000;
      if (etaMillis > wait.toMillis()) {
        return false;
      }
      waitedForFinish = true;
      return true;
    }

    void awaitFinished(Duration wait) {
      try {
        finished.await(wait.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    void awaitPlan(Duration wait) {
      try {
        planned.await(wait.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    Outcome outcome() {
      Outcome now = outcome;
      if (now instanceof Outcome.InProgress) {
        long total = progress.bytesTotal();
        return total == 0
            ? now
            : new Outcome.InProgress(
                String.format(
                    "copied %d of %d bytes (%.0f %%) at %.1f MB/s",
                    progress.bytesDone(),
                    total,
                    100.0 * progress.bytesDone() / total,
                    progress.bytesPerSecond() / 1e6));
      }
      return now;
    }

    /**
     * A copy from the node's archive, if the plan allows one and the archive holds a snapshot an
     * install would accept; empty otherwise (the reason is logged).
     */
    private Optional<PeerSnapshotFetcher.Result> fromArchive(
        BootstrapSource.Request request,
        Path stagingParent,
        BootstrapSource.Plan plan,
        String whyNotAPeer) {
      Optional<BootstrapSource.ArchivedCopies> archive = source.archive();
      if (!plan.archive() || archive.isEmpty()) {
        return Optional.empty();
      }
      from = ARCHIVE;
      outcome = new Outcome.InProgress("copying from the archive");
      log.info(
          "cold bootstrap of store {} task {}: copying from the archive {} ({}; {})",
          request.storeName(),
          request.taskId(),
          archive.get().describe(),
          whyNotAPeer,
          plan.reason());
      try {
        Optional<PeerSnapshotFetcher.Result> copy =
            archive
                .get()
                .copy(
                    request,
                    stagingParent,
                    progress,
                    plan.changelogDeleteRetention(),
                    plan.archiveMinOffset());
        if (copy.isEmpty()) {
          log.warn(
              "cold bootstrap of store {} task {}: the archive {} holds no snapshot it could"
                  + " install{}",
              request.storeName(),
              request.taskId(),
              archive.get().describe(),
              plan.archiveMinOffset() >= 0
                  ? " at changelog offset " + plan.archiveMinOffset() + " or later"
                  : "");
        } else {
          fromArchive.incrementAndGet();
        }
        return copy;
      } catch (RuntimeException e) {
        log.warn(
            "cold bootstrap of store {} task {}: the copy from the archive {} failed: {}",
            request.storeName(),
            request.taskId(),
            archive.get().describe(),
            e.getMessage());
        return Optional.empty();
      }
    }

    private Outcome restoreInstead(BootstrapSource.Request request, String why) {
      fellBack.incrementAndGet();
      log.warn(
          "cold bootstrap of store {} task {}: {}; restoring from the changelog instead",
          request.storeName(),
          request.taskId(),
          why);
      return new Outcome.Restore(why);
    }

    void run(BootstrapSource.Request request, Path stagingParent) {
      Optional<BootstrapSource.Plan> plan = Optional.empty();
      try {
        try {
          try {
            plan = source.plan(request);
          } catch (ChangelogTruncatedException e) {
            outcome = new Outcome.Blocked(e.getMessage());
            return;
          }
          if (plan.isEmpty()) {
            outcome = new Outcome.Restore("no peer to copy from");
            return;
          }
          required = plan.get().required();
          firstReason = plan.get().reason();
          from = plan.get().peers().isEmpty() ? ARCHIVE : plan.get().peers().get(0).nodeId();
          outcome = new Outcome.InProgress("copying from " + from);
        } finally {
          planned.countDown();
        }
        Files.createDirectories(stagingParent);
        deleteLeftovers(stagingParent);
        PeerSnapshotFetcher.Result result = null;
        if (plan.get().peers().isEmpty()) {
          Optional<PeerSnapshotFetcher.Result> archived =
              fromArchive(request, stagingParent, plan.get(), "no peer holds the task");
          if (archived.isEmpty()) {
            outcome =
                required
                    ? blockedBy("no peer holds the task, and the archive has no snapshot to copy")
                    : restoreInstead(request, "no peer and nothing in the archive to copy");
            return;
          }
          result = archived.get();
        }
        for (int attempt = 1; result == null; attempt++) {
          log.info(
              "cold bootstrap of store {} task {}: copying from {} ({})",
              request.storeName(),
              request.taskId(),
              plan.get().peers().stream().map(PeerSnapshotFetcher.Peer::nodeId).toList(),
              plan.get().reason());
          try {
            result =
                source
                    .fetcher()
                    .fetch(
                        plan.get().peers(),
                        request.applicationId(),
                        request.taskId(),
                        request.storeName(),
                        stagingParent,
                        progress,
                        plan.get().acceptance());
          } catch (RetriableBackboneException e) {
            if (!e.code().equals(PeerSnapshotFetcher.PEERS_NOT_READY)
                || attempt >= NOT_READY_ATTEMPTS) {
              throw e;
            }
            // In a rebalance the replicas that could lend are being recycled or initialized
            // themselves for a moment; ask again (this thread is not the stream thread).
            log.info(
                "cold bootstrap of store {} task {}: no peer could lend yet ({}); asking again in"
                    + " {} ms",
                request.storeName(),
                request.taskId(),
                e.getMessage(),
                NOT_READY_BACKOFF.toMillis() * attempt);
            Thread.sleep(NOT_READY_BACKOFF.toMillis() * attempt);
            Optional<BootstrapSource.Plan> again = source.plan(request);
            if (again.isEmpty() || again.get().peers().isEmpty()) {
              Optional<PeerSnapshotFetcher.Result> archived =
                  fromArchive(
                      request,
                      stagingParent,
                      again.orElse(plan.get()),
                      "no peer to copy from is left");
              if (archived.isPresent()) {
                result = archived.get();
                break;
              }
            }
            if ((again.isEmpty() || again.get().peers().isEmpty()) && required) {
              outcome = blockedBy("no peer to copy from is left");
              return;
            }
            if (again.isEmpty() || again.get().peers().isEmpty()) {
              fellBack.incrementAndGet();
              log.warn(
                  "cold bootstrap of store {} task {}: no peer to copy from any more, restoring"
                      + " from the changelog instead",
                  request.storeName(),
                  request.taskId());
              outcome = new Outcome.Restore("no peer to copy from any more");
              return;
            }
            plan = again;
          }
        }
        from = result.from().nodeId();
        outcome =
            new Outcome.Ready(
                result.directory(), plan.get().changelogDeleteRetention(), result, required);
      } catch (ChangelogTruncatedException e) {
        outcome = new Outcome.Blocked(e.getMessage());
      } catch (BackboneException | IOException e) {
        Optional<PeerSnapshotFetcher.Result> archived =
            plan.isEmpty()
                ? Optional.empty()
                : fromArchive(request, stagingParent, plan.get(), e.getMessage());
        if (archived.isPresent()) {
          from = ARCHIVE;
          outcome =
              new Outcome.Ready(
                  archived.get().directory(),
                  plan.get().changelogDeleteRetention(),
                  archived.get(),
                  required);
          return;
        }
        if (required) {
          outcome = blockedBy(e.getMessage());
          return;
        }
        fellBack.incrementAndGet();
        log.warn(
            "cold bootstrap of store {} task {} failed, restoring from the changelog instead: {}",
            request.storeName(),
            request.taskId(),
            e.getMessage());
        outcome = new Outcome.Restore(e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        outcome = new Outcome.Restore("the node is closing");
      } catch (RuntimeException e) {
        if (required) {
          log.error(
              "cold bootstrap of store {} task {} failed unexpectedly",
              request.storeName(),
              request.taskId(),
              e);
          outcome = blockedBy(e.toString());
          return;
        }
        fellBack.incrementAndGet();
        log.error(
            "cold bootstrap of store {} task {} failed unexpectedly; restoring from the changelog",
            request.storeName(),
            request.taskId(),
            e);
        outcome = new Outcome.Restore(e.toString());
      } finally {
        finished.countDown();
      }
    }
  }

  /**
   * Copies in the store's staging directory when its job starts are an earlier process's (this one
   * runs one job per store at a time, and every job deletes its own copy when it ends): a node
   * killed mid-copy would otherwise keep a copy of the whole store there for as long as the task
   * stays on it.
   */
  private static void deleteLeftovers(Path stagingParent) throws IOException {
    try (Stream<Path> entries = Files.list(stagingParent)) {
      for (Path leftover :
          entries.filter(p -> p.getFileName().toString().startsWith(".")).toList()) {
        log.info("deleting {}, a copy an earlier run of this node left behind", leftover);
        deleteQuietly(leftover);
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    Exception failure = Directories.deleteRecursively(dir);
    if (failure != null) {
      log.warn("could not delete the bootstrap copy at {}: {}", dir, failure.toString());
    }
  }
}
