package dev.backbone.server.internals;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.util.RawValue;
import dev.backbone.server.QueryableStore;
import dev.backbone.store.ServingTasks;
import dev.backbone.store.StoredValueQuery;
import dev.backbone.store.internals.PositionBounds;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.LagInfo;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.query.FailureReason;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.query.StateQueryResult;
import org.apache.kafka.streams.state.KeyValueIterator;

/**
 * Reads a key from the replica this node holds and says what the answer is worth: current (the
 * key's active replica, caught up) or stale (with the replica's lag).
 *
 * <p>What must hold: an answer is presented as current only if it was read from an active task that
 * runs here (IQv2's {@code requireActive}, or the stage's {@link ServingTasks} showing the task's
 * run unchanged from before to after the read, which spares the read IQv2's walk over every task
 * under the state updater's locks) <em>and</em> the stage's {@link RestoreTracker} showed that
 * replica caught up, in one and the same incarnation of its store, both before and after the query.
 * {@code requireActive} alone would accept a task that restores while its thread runs; checking the
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
  private final KeyOwnerLookup owners;

  /** Stores found not to answer {@link StoredValueQuery} (not Backbone stores, or HEADERS ones). */
  private final Set<String> typedOnly = ConcurrentHashMap.newKeySet();

  LocalReplicaReader(String nodeId, KeyOwnerLookup owners) {
    this.nodeId = nodeId;
    this.owners = owners;
  }

  /**
   * A read of the local active replica: fresh only if the replica was caught up, in one and the
   * same incarnation, both before and after the query (see {@link RestoreTracker}); otherwise 503
   * {@code RESTORING}, or for a {@code staleOk} read the same answer marked stale with its lag.
   */
  <K, V> KeyReadRouter.KeyRead readActive(LocalRead<K, V> read) {
    if (readsStoredJson(read)) {
      try {
        Served<byte[]> stored =
            serveActive(
                read.target(),
                new StoredValueQuery(Bytes.wrap(owners.serializedKey(read.store(), read.key()))),
                Function.<byte[]>identity());
        if (stored.result() != null) {
          return answer(read, stored, new RawValue(new String(stored.result(), UTF_8)), null);
        }
        // Not found: the typed read below is the one that may say so.
      } catch (StoredValuesUnsupported e) {
        if (e.always) {
          typedOnly.add(read.store().storeName());
        }
      }
    }
    Served<V> served =
        serveActive(read.target(), KeyQuery.<K, V>withKey(read.key()), Function.<V>identity());
    return answer(read, served);
  }

  /**
   * Whether a read may answer with the stored bytes ({@link QueryableStore#withStoredJsonValues}):
   * a JSON read of a store so declared, in a stage whose typed reads skip the record cache too (an
   * exactly-once stage, which runs without one), so the two ways read the same state.
   */
  private boolean readsStoredJson(LocalRead<?, ?> read) {
    return read.store().storedJson()
        && !read.binary()
        && read.stage().exactlyOnce()
        && !typedOnly.contains(read.store().storeName());
  }

  /** A {@code staleOk} read of whichever replica this node holds, marked stale with its lag. */
  <K, V> KeyReadRouter.KeyRead readStale(LocalRead<K, V> read, boolean active) {
    return answer(
        read,
        serveStale(
            read.target(), KeyQuery.<K, V>withKey(read.key()), Function.<V>identity(), active));
  }

  /**
   * Runs a query on the local active replica of a partition, with the guarantee of {@link
   * #readActive}: {@code consume} turns the raw result into what the caller keeps (an iterator is
   * read and closed there) before the replica is looked at again, so the answer is fresh only if
   * the replica stayed caught up for the whole read.
   */
  <K, V, R, T> Served<T> serveActive(Target<K, V> target, Query<R> query, Function<R, T> consume) {
    RestoreTracker.Replica before = target.replica();
    Optional<QueryResult<R>> result = query(target, query, true);
    if (result.isEmpty()) {
      if (target.staleOk()) {
        return serveStale(target, query, consume, true);
      }
      throw KeyReadRouter.rebalancing(
          target.store(),
          "partition "
              + target.partition()
              + " is not active here right now (its thread is not running, or the task moved)");
    }
    T kept = consume.apply(result.get().getResult());
    RestoreTracker.Replica after = target.replica();
    Position position = result.get().getPosition();
    boolean fresh = before != null && before.caughtUp() && before.equals(after);
    if (fresh) {
      return new Served<>(kept, position, target.staleOk() ? Boolean.FALSE : null, null);
    }
    if (!target.staleOk()) {
      throw HttpErrors.retriable(
          HttpErrors.RESTORING,
          "Store '"
              + target.store().storeName()
              + "' partition "
              + target.partition()
              + " is restoring on this node, its active replica ("
              + describe(after)
              + "); it answers once caught up. Retry after the Retry-After delay, or pass"
              + " staleOk=true to read it as it is now.");
    }
    return new Served<>(kept, position, Boolean.TRUE, after == null ? -1L : after.lag());
  }

  /**
   * Runs a query on whichever replica of a partition this node holds, marked stale with its lag.
   */
  <K, V, R, T> Served<T> serveStale(
      Target<K, V> target, Query<R> query, Function<R, T> consume, boolean active) {
    QueryResult<R> result =
        query(target, query, false)
            .orElseThrow(
                () ->
                    KeyReadRouter.rebalancing(
                        target.store(),
                        "partition " + target.partition() + " is not hosted here right now"));
    T kept = consume.apply(result.getResult());
    RestoreTracker.Replica replica = target.replica();
    long lag =
        active && replica != null && replica.phase() == RestoreTracker.Phase.RESTORING
            ? replica.lag()
            : lag(target.stage().streams(), target.store().storeName(), target.partition());
    return new Served<>(kept, result.getPosition(), Boolean.TRUE, lag);
  }

  /**
   * Queries the local store; empty when Kafka Streams says the partition is not active (with {@code
   * requireActive}) or not hosted here. Under exactly-once the query reads committed state only
   * ({@code READ_COMMITTED}, and past the record cache, which the stage runs without: see {@link
   * StageProperties}).
   */
  private <K, V, R> Optional<QueryResult<R>> query(
      Target<K, V> target, Query<R> query, boolean requireActive) {
    int partition = target.partition();
    if (target.stage().exactlyOnce() && query instanceof KeyQuery<?, ?> keyQuery) {
      @SuppressWarnings("unchecked")
      Query<R> uncached = (Query<R>) keyQuery.skipCache();
      query = uncached;
    }
    StateQueryRequest<R> request =
        StateQueryRequest.inStore(target.store().storeName())
            .withQuery(query)
            .withPartitions(Set.of(partition));
    if (target.stage().exactlyOnce()) {
      request = request.withIsolationLevel(IsolationLevel.READ_COMMITTED);
    }
    if (requireActive) {
      request = request.requireActive();
    }
    // The bound is checked here, on the answer's position, not passed as a PositionBound: Kafka
    // Streams drops the bound of a requireActive() request (KafkaStreams#query, 4.4.0, queries
    // the store with PositionBound.unbounded() then).
    RestoreTracker.Replica before = target.replica();
    long deadline = System.nanoTime() + MIN_POSITION_WAIT.toNanos();
    QueryResult<R> partitionResult;
    while (true) {
      partitionResult = requireActive ? queryServing(target, query) : null;
      if (partitionResult == null && query instanceof StoredValueQuery) {
        // Only a store the serving index shows is asked for its stored bytes; IQv2's own walk
        // may meet a format adapter that refuses them.
        throw new StoredValuesUnsupported(false);
      }
      if (partitionResult == null) {
        StateQueryResult<R> result;
        try {
          result = target.stage().streams().query(request);
        } catch (InvalidStateStoreException e) {
          throw KeyReadRouter.rebalancing(
              target.store(), "the local store is not queryable (" + e.getMessage() + ")");
        }
        partitionResult = result.getPartitionResults().get(partition);
      }
      if (partitionResult == null) {
        return Optional.empty();
      }
      if (partitionResult.isFailure()
          || target.minPosition().isEmpty()
          || reaches(partitionResult.getPosition(), target.minPosition().get(), partition)) {
        break;
      }
      closeIfIterator(partitionResult.getResult());
      // Behind the token: the replica catches up as it processes or restores; wait a little.
      if (System.nanoTime() >= deadline) {
        throw HttpErrors.retriable(
            HttpErrors.POSITION_NOT_REACHED,
            "Store '"
                + target.store().storeName()
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
        throw KeyReadRouter.rebalancing(target.store(), "the read was interrupted");
      }
    }
    if (partitionResult.isFailure()) {
      FailureReason reason = partitionResult.getFailureReason();
      if (reason == FailureReason.NOT_ACTIVE || reason == FailureReason.NOT_PRESENT) {
        return Optional.empty();
      }
      if (query instanceof StoredValueQuery) {
        // Read it the typed way, which answers (or fails) as every read does.
        throw new StoredValuesUnsupported(reason == FailureReason.UNKNOWN_QUERY_TYPE);
      }
      if (reason == FailureReason.STORE_EXCEPTION && !Objects.equals(before, target.replica())) {
        // The store was closed or reopened under the query: a hand-over, not a bug.
        throw KeyReadRouter.rebalancing(
            target.store(), "partition " + partition + " was closed or reopened during the read");
      }
      throw new IllegalStateException(
          "IQv2 "
              + query.getClass().getSimpleName()
              + " on store '"
              + target.store().storeName()
              + "' partition "
              + partition
              + " failed: "
              + reason
              + ": "
              + partitionResult.getFailureMessage());
    }
    return Optional.of(partitionResult);
  }

  /**
   * Queries the partition's store directly when the stage's {@link ServingTasks} shows its task
   * active and running here, as {@code KafkaStreams#query} would query it (the same outermost
   * store, {@code PositionBound.unbounded()}, the request's isolation level) but without its walk
   * over every task; null when the index cannot tell (a topology built without Backbone's wrapper,
   * a store that is not a Backbone store, a task not running here) or the task stopped running
   * during the read, and the caller asks Kafka Streams instead.
   */
  private static <K, V, R> QueryResult<R> queryServing(Target<K, V> target, Query<R> query) {
    OptionalInt subtopology = target.stage().topology().subtopologyOf(target.store().storeName());
    if (subtopology.isEmpty()) {
      return null;
    }
    Optional<ServingTasks.Serving> serving =
        target
            .stage()
            .serving()
            .serving(
                new TaskId(subtopology.getAsInt(), target.partition()), target.store().storeName());
    if (serving.isEmpty()) {
      return null;
    }
    if (query instanceof StoredValueQuery && !serving.get().storedValues()) {
      throw new StoredValuesUnsupported(true);
    }
    IsolationLevel isolation =
        target.stage().exactlyOnce()
            ? IsolationLevel.READ_COMMITTED
            : IsolationLevel.READ_UNCOMMITTED;
    QueryResult<R> result;
    try {
      result =
          serving
              .get()
              .store()
              .query(query, PositionBound.unbounded(), new QueryConfig(false, isolation));
    } catch (RuntimeException e) {
      if (!serving.get().stillCurrent()) {
        // Closed or handed over under the read (a store's close ends its task's run first).
        return null;
      }
      // As Kafka Streams' own stores answer a failing query: a failure, not an exception.
      result = QueryResult.forFailure(FailureReason.STORE_EXCEPTION, e.toString());
    }
    if (!serving.get().stillCurrent()) {
      if (result.isSuccess()) {
        closeIfIterator(result.getResult());
      }
      return null;
    }
    return result;
  }

  private static void closeIfIterator(Object result) {
    if (result instanceof KeyValueIterator<?, ?> iterator) {
      iterator.close();
    }
  }

  /** Whether a read that saw {@code seen} reflects {@code wanted} for this partition. */
  static boolean reaches(Position seen, Position wanted, int partition) {
    return PositionBounds.permits(seen, wanted, partition);
  }

  /** The answer to a key read: the value, or a 404 that says as much about what it saw. */
  private <K, V> KeyReadRouter.KeyRead answer(LocalRead<K, V> read, Served<V> served) {
    V value = served.result();
    return answer(
        read,
        served,
        value == null ? null : read.store().toJson().apply(value),
        value == null || !read.binary() ? null : read.store().toBytes().orElseThrow().apply(value));
  }

  /**
   * The answer to a key read of a value shown as {@code json} (null for a key without one), with
   * {@code bytes} for a binary read.
   */
  private <K, V> KeyReadRouter.KeyRead answer(
      LocalRead<K, V> read, Served<?> served, Object json, byte[] bytes) {
    Position position = served.position();
    String token = PositionTokens.encode(position == null ? Position.emptyPosition() : position);
    QueryableStore<K, V> store = read.store();
    Boolean stale = served.stale();
    Long shownLag = Boolean.TRUE.equals(stale) ? served.lag() : null;
    ApiError.Detail missing =
        json != null
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
            json,
            nodeId,
            read.partition(),
            token,
            read.owner().generation(),
            stale,
            shownLag),
        bytes);
  }

  /**
   * A {@link StoredValueQuery} that cannot be answered: read the key the typed way; {@code always}
   * when the store never answers one (not a Backbone store, HEADERS format, a format adapter).
   */
  private static final class StoredValuesUnsupported extends RuntimeException {
    final boolean always;

    StoredValuesUnsupported(boolean always) {
      super(null, null, false, false);
      this.always = always;
    }
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
   * What a local key read works on.
   *
   * @param store the store
   * @param stage its stage on this node
   * @param keyText the key as the URL gave it
   * @param key the parsed key
   * @param owner the key's task and owner by the routing table
   * @param staleOk whether the caller accepts a stale answer
   * @param minPosition the position the answer must reflect at least, if any
   * @param binary whether the caller wants the value's bytes ({@link QueryableStore#toBytes()})
   */
  record LocalRead<K, V>(
      QueryableStore<K, V> store,
      RunningStage stage,
      String keyText,
      K key,
      KeyOwner owner,
      boolean staleOk,
      Optional<Position> minPosition,
      boolean binary) {
    int partition() {
      return owner.partition();
    }

    Target<K, V> target() {
      return new Target<>(store, stage, owner.partition(), staleOk, minPosition);
    }
  }

  /**
   * The local replica a query runs on and what the caller accepts of it.
   *
   * @param store the store
   * @param stage its stage on this node
   * @param partition the store partition
   * @param staleOk whether the caller accepts a stale answer
   * @param minPosition the position the answer must reflect at least, if any
   */
  record Target<K, V>(
      QueryableStore<K, V> store,
      RunningStage stage,
      int partition,
      boolean staleOk,
      Optional<Position> minPosition) {
    RestoreTracker.Replica replica() {
      return stage.restores().replica(store.storeName(), partition);
    }
  }

  /**
   * What a query gave and what it is worth.
   *
   * @param result what the caller kept of the result
   * @param position the position of exactly the state read
   * @param stale for a {@code staleOk} read whether it may be behind; absent otherwise
   * @param lag for a stale answer the replica's lag (-1 if unknown); absent otherwise
   */
  record Served<T>(T result, Position position, Boolean stale, Long lag) {}
}
