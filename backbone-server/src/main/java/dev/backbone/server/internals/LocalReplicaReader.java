package dev.backbone.server.internals;

import dev.backbone.server.QueryableStore;
import dev.backbone.store.internals.PositionBounds;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.LagInfo;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.query.FailureReason;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.query.StateQueryResult;

/**
 * Reads a key from the replica this node holds and says what the answer is worth: current (the
 * key's active replica, caught up) or stale (with the replica's lag).
 *
 * <p>What must hold: an answer is presented as current only if IQv2 served it from an active task
 * ({@code requireActive}) <em>and</em> the stage's {@link RestoreTracker} showed that replica
 * caught up, in one and the same incarnation of its store, both before and after the query. {@code
 * requireActive} alone would accept a task that restores while its thread runs; checking the
 * tracker only before would miss a store reopened during the query; the incarnation makes a store
 * that was closed, wiped and reopened between the two looks differ. Under exactly-once the query
 * reads committed state only ({@code READ_COMMITTED}, {@code skipCache()}, and a stage that runs
 * without the record cache, see {@link StageProperties}), and the answer's position token is the
 * query result's position: exactly what was read.
 */
final class LocalReplicaReader {
  /**
   * How long a read with a {@code minPosition} waits for a replica behind it to catch up before it
   * answers 503 {@code POSITION_NOT_REACHED}: long enough for a commit interval or two of an
   * exactly-once stage (100 ms), short enough not to tie up a request thread for long.
   */
  static final Duration MIN_POSITION_WAIT = Duration.ofSeconds(2);

  private static final Duration MIN_POSITION_POLL = Duration.ofMillis(10);

  private final String nodeId;

  LocalReplicaReader(String nodeId) {
    this.nodeId = nodeId;
  }

  /**
   * A read of the local active replica: fresh only if the replica was caught up, in one and the
   * same incarnation, both before and after the query (see {@link RestoreTracker}); otherwise 503
   * {@code RESTORING}, or for a {@code staleOk} read the same answer marked stale with its lag.
   */
  <K, V> KeyReadRouter.KeyRead readActive(LocalRead<K, V> read) {
    RestoreTracker.Replica before = read.replica();
    Optional<QueryResult<V>> result = query(read, true);
    RestoreTracker.Replica after = read.replica();
    if (result.isEmpty()) {
      if (read.staleOk()) {
        return readStale(read, true);
      }
      throw KeyReadRouter.rebalancing(
          read.store(),
          "partition "
              + read.partition()
              + " is not active here right now (its thread is not running, or the task moved)");
    }
    boolean fresh = before != null && before.caughtUp() && before.equals(after);
    if (fresh) {
      return answer(read, result.get(), read.staleOk() ? Boolean.FALSE : null, null);
    }
    if (!read.staleOk()) {
      throw HttpErrors.retriable(
          HttpErrors.RESTORING,
          "Store '"
              + read.store().storeName()
              + "' partition "
              + read.partition()
              + " is restoring on this node, its active replica ("
              + describe(after)
              + "); it answers once caught up. Retry after the Retry-After delay, or pass"
              + " staleOk=true to read it as it is now.");
    }
    return answer(read, result.get(), Boolean.TRUE, after == null ? -1L : after.lag());
  }

  /** A {@code staleOk} read of whichever replica this node holds, marked stale with its lag. */
  <K, V> KeyReadRouter.KeyRead readStale(LocalRead<K, V> read, boolean active) {
    QueryResult<V> result =
        query(read, false)
            .orElseThrow(
                () ->
                    KeyReadRouter.rebalancing(
                        read.store(),
                        "partition " + read.partition() + " is not hosted here right now"));
    RestoreTracker.Replica replica = read.replica();
    long lag =
        active && replica != null && replica.phase() == RestoreTracker.Phase.RESTORING
            ? replica.lag()
            : lag(read.stage().streams(), read.store().storeName(), read.partition());
    return answer(read, result, Boolean.TRUE, lag);
  }

  /**
   * Queries the local store; empty when Kafka Streams says the partition is not active (with {@code
   * requireActive}) or not hosted here. Under exactly-once the query reads committed state only
   * ({@code READ_COMMITTED}, and past the record cache, which the stage runs without: see {@link
   * StageProperties}).
   */
  private <K, V> Optional<QueryResult<V>> query(LocalRead<K, V> read, boolean requireActive) {
    int partition = read.partition();
    KeyQuery<K, V> keyQuery = KeyQuery.withKey(read.key());
    if (read.stage().exactlyOnce()) {
      keyQuery = keyQuery.skipCache();
    }
    StateQueryRequest<V> request =
        StateQueryRequest.inStore(read.store().storeName())
            .withQuery(keyQuery)
            .withPartitions(Set.of(partition));
    if (read.stage().exactlyOnce()) {
      request = request.withIsolationLevel(IsolationLevel.READ_COMMITTED);
    }
    if (requireActive) {
      request = request.requireActive();
    }
    // The bound is checked here, on the answer's position, not passed as a PositionBound: Kafka
    // Streams drops the bound of a requireActive() request (KafkaStreams#query, 4.4.0, queries
    // the store with PositionBound.unbounded() then).
    RestoreTracker.Replica before = read.replica();
    long deadline = System.nanoTime() + MIN_POSITION_WAIT.toNanos();
    QueryResult<V> partitionResult;
    while (true) {
      StateQueryResult<V> result;
      try {
        result = read.stage().streams().query(request);
      } catch (InvalidStateStoreException e) {
        throw KeyReadRouter.rebalancing(
            read.store(), "the local store is not queryable (" + e.getMessage() + ")");
      }
      partitionResult = result.getPartitionResults().get(partition);
      if (partitionResult == null) {
        return Optional.empty();
      }
      if (partitionResult.isFailure()
          || read.minPosition().isEmpty()
          || reaches(partitionResult.getPosition(), read.minPosition().get(), partition)) {
        break;
      }
      // Behind the token: the replica catches up as it processes or restores; wait a little.
      if (System.nanoTime() >= deadline) {
        throw HttpErrors.retriable(
            HttpErrors.POSITION_NOT_REACHED,
            "Store '"
                + read.store().storeName()
                + "' partition "
                + partition
                + " on this node has not reached the requested minPosition within "
                + MIN_POSITION_WAIT.toMillis()
                + " ms (it is behind the write or read the token came from); retry after the"
                + " Retry-After delay.");
      }
      try {
        Thread.sleep(MIN_POSITION_POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw KeyReadRouter.rebalancing(read.store(), "the read was interrupted");
      }
    }
    if (partitionResult.isFailure()) {
      FailureReason reason = partitionResult.getFailureReason();
      if (reason == FailureReason.NOT_ACTIVE || reason == FailureReason.NOT_PRESENT) {
        return Optional.empty();
      }
      if (reason == FailureReason.STORE_EXCEPTION && !Objects.equals(before, read.replica())) {
        // The store was closed or reopened under the query: a hand-over, not a bug.
        throw KeyReadRouter.rebalancing(
            read.store(), "partition " + partition + " was closed or reopened during the read");
      }
      throw new IllegalStateException(
          "IQv2 key query on store '"
              + read.store().storeName()
              + "' partition "
              + partition
              + " failed: "
              + reason
              + ": "
              + partitionResult.getFailureMessage());
    }
    return Optional.of(partitionResult);
  }

  /** Whether a read that saw {@code seen} reflects {@code wanted} for this partition. */
  static boolean reaches(Position seen, Position wanted, int partition) {
    return PositionBounds.permits(seen, wanted, partition);
  }

  /** The answer to a read: the value, or a 404 that says as much about what it saw. */
  private <K, V> KeyReadRouter.KeyRead answer(
      LocalRead<K, V> read, QueryResult<V> result, Boolean stale, Long lag) {
    Position position = result.getPosition();
    String token = PositionTokens.encode(position == null ? Position.emptyPosition() : position);
    QueryableStore<K, V> store = read.store();
    Long shownLag = Boolean.TRUE.equals(stale) ? lag : null;
    V value = result.getResult();
    ApiError.Detail missing =
        value != null
            ? null
            : new ApiError.Detail(
                HttpErrors.KEY_NOT_FOUND,
                "Store '"
                    + store.storeName()
                    + "' has no value for key '"
                    + KeyCodec.abbreviate(read.keyText())
                    + "'"
                    + (Boolean.TRUE.equals(stale)
                        ? " in this node's replica, which may be behind (stale)."
                        : "."));
    return new KeyReadRouter.KeyRead.Local(
        new KeyReadRouter.KeyAnswer(
            missing,
            store.storeName(),
            read.keyText(),
            value == null ? null : store.toJson().apply(value),
            nodeId,
            read.partition(),
            token,
            read.owner().generation(),
            stale,
            shownLag));
  }

  private static String describe(RestoreTracker.Replica replica) {
    if (replica == null) {
      return "never opened here";
    }
    return switch (replica.phase()) {
      case OPENED -> "opened, restore not started";
      case RESTORING -> "restoring, " + replica.lag() + " changelog records behind";
      case CAUGHT_UP -> "reopened during the read";
      case CLOSED -> "closed";
    };
  }

  /** The offset lag of a local replica, or -1 when Kafka Streams cannot tell right now. */
  private static long lag(KafkaStreams streams, String storeName, int partition) {
    try {
      Map<Integer, LagInfo> lags = streams.allLocalStorePartitionLags().get(storeName);
      LagInfo info = lags == null ? null : lags.get(partition);
      return info == null ? -1 : info.offsetLag();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /**
   * What a local read works on.
   *
   * @param store the store
   * @param stage its stage on this node
   * @param keyText the key as the URL gave it
   * @param key the parsed key
   * @param owner the key's task and owner by the routing table
   * @param staleOk whether the caller accepts a stale answer
   */
  record LocalRead<K, V>(
      QueryableStore<K, V> store,
      RunningStage stage,
      String keyText,
      K key,
      KeyOwner owner,
      boolean staleOk,
      Optional<Position> minPosition) {
    int partition() {
      return owner.partition();
    }

    RestoreTracker.Replica replica() {
      return stage.restores().replica(store.storeName(), owner.partition());
    }
  }
}
