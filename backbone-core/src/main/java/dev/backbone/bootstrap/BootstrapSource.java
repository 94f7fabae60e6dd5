package dev.backbone.bootstrap;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.streams.processor.TaskId;

/**
 * Where a store without local state can copy a snapshot from: the node's view of the routing table
 * (which replicas hold the task, on which racks, how fresh) and of the changelog (its tombstone
 * retention, how long a replay would be). Implemented by the node; consulted by {@link
 * ColdBootstrap} off the stream thread.
 */
public interface BootstrapSource {

  /**
   * What a store asks for.
   *
   * @param applicationId the store's application id
   * @param taskId its task
   * @param storeName its name
   * @param localOffset the changelog offset of the last record its local state holds (Kafka Streams
   *     restores from the next one), empty when it holds none
   * @param localBytes the size of its local state, 0 when it holds none
   */
  record Request(
      String applicationId,
      TaskId taskId,
      String storeName,
      OptionalLong localOffset,
      long localBytes) {
    /** Checks that the names are there. */
    public Request {
      Objects.requireNonNull(applicationId, "applicationId");
      Objects.requireNonNull(taskId, "taskId");
      Objects.requireNonNull(storeName, "storeName");
      Objects.requireNonNull(localOffset, "localOffset");
    }

    /** A store without local state. */
    public static Request empty(String applicationId, TaskId taskId, String storeName) {
      return new Request(applicationId, taskId, storeName, OptionalLong.empty(), 0);
    }
  }

  /**
   * A decision to copy.
   *
   * @param peers replicas to try, best first
   * @param changelogDeleteRetention the changelog's {@code delete.retention.ms}: no snapshot older
   *     than that is installed
   * @param reason why a copy beats a replay here, for the log
   * @param minSourceOffset the lowest changelog offset a snapshot of one of {@code lagBoundPeers}
   *     may be at to be copied (such a replica further behind is passed over for the next)
   * @param lagBoundPeers the node ids the bound applies to (a same-rack standby tried before a
   *     fresher replica); the others are copied at any offset, a copy beating a full replay
   * @param required whether the store cannot be restored from its changelog at all (records it
   *     needs were deleted, see {@link ChangelogTruncatedException}): a copy that fails then leaves
   *     the store waiting for one that succeeds, never a restore that would lose them; the copy
   *     must then be at {@code minSourceOffset} or later, whatever its source
   * @param archive whether the node's snapshot archive ({@link #archive()}) is tried when no peer
   *     could lend (first, when {@code peers} is empty)
   */
  record Plan(
      List<PeerSnapshotFetcher.Peer> peers,
      Duration changelogDeleteRetention,
      String reason,
      long minSourceOffset,
      Set<String> lagBoundPeers,
      boolean required,
      boolean archive) {
    /** Copies the collections; a plan names a peer or the archive. */
    public Plan {
      peers = List.copyOf(peers);
      Objects.requireNonNull(changelogDeleteRetention, "changelogDeleteRetention");
      Objects.requireNonNull(reason, "reason");
      lagBoundPeers = Set.copyOf(lagBoundPeers);
      if (peers.isEmpty() && !archive) {
        throw new IllegalArgumentException("a plan copies from a peer or from the archive");
      }
    }

    /** A plan from peers only. */
    public Plan(
        List<PeerSnapshotFetcher.Peer> peers,
        Duration changelogDeleteRetention,
        String reason,
        long minSourceOffset,
        Set<String> lagBoundPeers,
        boolean required) {
      this(
          peers, changelogDeleteRetention, reason, minSourceOffset, lagBoundPeers, required, false);
    }

    /** The lowest changelog offset a copy from the archive may be at: the bound, if required. */
    public long archiveMinOffset() {
      return required ? minSourceOffset : -1;
    }

    /** A plan the store may give up on for a changelog restore. */
    public Plan(
        List<PeerSnapshotFetcher.Peer> peers,
        Duration changelogDeleteRetention,
        String reason,
        long minSourceOffset,
        Set<String> lagBoundPeers) {
      this(peers, changelogDeleteRetention, reason, minSourceOffset, lagBoundPeers, false);
    }

    /** A plan that takes a snapshot at any offset. */
    public Plan(
        List<PeerSnapshotFetcher.Peer> peers, Duration changelogDeleteRetention, String reason) {
      this(peers, changelogDeleteRetention, reason, -1, Set.of(), false);
    }

    /** What the fetcher may copy under this plan. */
    public PeerSnapshotFetcher.Acceptance acceptance() {
      return new PeerSnapshotFetcher.Acceptance(
          changelogDeleteRetention, minSourceOffset, lagBoundPeers);
    }
  }

  /**
   * Whether and from where to copy; empty to restore from the changelog (no peer holds the task, a
   * replay is short enough, the store is not logged). For a store with local state, a copy only
   * when it is estimated faster than replaying the tail ({@link CopyOrReplay}). Runs off the stream
   * thread and may take a moment (metadata lookups).
   *
   * @throws ChangelogTruncatedException when the store needs changelog records that were deleted
   *     and no replica can be copied from right now
   */
  Optional<Plan> plan(Request request);

  /** The fetcher that copies, with the node's secret, parallelism and throttle. */
  PeerSnapshotFetcher fetcher();

  /** The node's snapshot archive, where a plan that allows it copies from when no peer can. */
  default Optional<ArchivedCopies> archive() {
    return Optional.empty();
  }

  /**
   * Copies from a snapshot archive: the bootstrap's source after live peers and before the
   * changelog ({@code dev.backbone.retention} implements it over the node's archive).
   */
  interface ArchivedCopies {
    /**
     * Copies the newest archived snapshot of the store that an install would accept into a new
     * directory under {@code stagingParent}, every file checked against its manifest.
     *
     * @param maxDataAge the changelog's {@code delete.retention.ms}: an older snapshot is passed
     *     over
     * @param minOffset the lowest changelog offset the snapshot may be at (-1: any)
     * @return the copy, its {@code from} naming the archive; empty if the archive holds no
     *     acceptable snapshot of the store
     * @throws RuntimeException when the archive cannot be read or a file is damaged
     */
    Optional<PeerSnapshotFetcher.Result> copy(
        Request request,
        Path stagingParent,
        PeerSnapshotFetcher.Progress progress,
        Duration maxDataAge,
        long minOffset);

    /** Where the archive is, for logs. */
    String describe();
  }
}
