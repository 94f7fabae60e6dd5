package dev.backbone.routing;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The routing a node (or a client) holds in memory for one application: the latest table and the
 * membership. Thread-safe; readers never block.
 *
 * <p>Tables are applied in log order: the routing topic has one partition and one key, so the last
 * record is the latest table, whatever its generation says. Generations are compared only between
 * nodes, to decide whether a forwarded read may be forwarded once more (see the server's key
 * router); {@link #highestGenerationSeen()} lets a publisher continue the sequence.
 *
 * <p>{@link #pin(RoutingTable)} freezes the view on a given table until {@link #unpin()}: newer
 * tables are kept aside meanwhile. It simulates a node whose routing consumer lags (tests, drills);
 * correctness must never depend on the view being fresh.
 */
public final class RoutingCache {
  private final String applicationId;
  private volatile RoutingTable table;
  private volatile RoutingIndex index;
  private volatile Membership membership = Membership.empty();
  private volatile long highestGeneration;
  private RoutingTable pinned;
  private RoutingTable latest;

  /** An empty cache for an application. */
  public RoutingCache(String applicationId) {
    this.applicationId = Objects.requireNonNull(applicationId, "applicationId");
    this.table = RoutingTable.empty(applicationId);
    this.latest = table;
  }

  /** The application this cache routes. */
  public String applicationId() {
    return applicationId;
  }

  /** The table in use (generation 0 and no tasks before any was received). */
  public RoutingTable table() {
    return table;
  }

  /** The index of {@link #table()}, built once per table. */
  public RoutingIndex index() {
    RoutingTable current = table;
    RoutingIndex built = index;
    if (built == null || built.table() != current) {
      built = RoutingIndex.of(current);
      index = built;
    }
    return built;
  }

  /** Whether a table with tasks was received. */
  public boolean hasTable() {
    return !table.tasks().isEmpty();
  }

  /**
   * Waits until a table with tasks is in use, at most {@code timeout}.
   *
   * @return whether one is
   */
  public synchronized boolean awaitTable(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!hasTable()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  /** The membership in use. */
  public Membership membership() {
    return membership;
  }

  /** The highest generation of any table received, pinned or not. */
  public long highestGenerationSeen() {
    return highestGeneration;
  }

  /** Applies a table read from the routing topic (or published by this process). */
  public synchronized void accept(RoutingTable newer) {
    Objects.requireNonNull(newer, "table");
    if (!newer.applicationId().equals(applicationId)) {
      return;
    }
    highestGeneration = Math.max(highestGeneration, newer.generation());
    latest = newer;
    if (pinned == null) {
      table = newer;
      notifyAll();
    }
  }

  /** Applies a membership record read from the members topic. */
  public synchronized void accept(Member member) {
    membership = membership.with(member);
  }

  /** Uses {@code stale} until {@link #unpin()}, whatever arrives meanwhile. */
  public synchronized void pin(RoutingTable stale) {
    pinned = Objects.requireNonNull(stale, "stale");
    table = stale;
  }

  /** Ends a {@link #pin}: the latest table received is in use again. */
  public synchronized void unpin() {
    pinned = null;
    table = latest;
    notifyAll();
  }

  /** The pinned table, if the view is frozen. */
  public synchronized Optional<RoutingTable> pinned() {
    return Optional.ofNullable(pinned);
  }
}
