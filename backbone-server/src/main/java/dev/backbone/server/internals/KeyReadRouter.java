package dev.backbone.server.internals;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.backbone.server.QueryableStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.LagInfo;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.query.StateQueryResult;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Serves {@code GET /v1/stores/{store}/keys/{key}} on any node: reads the key locally when this
 * node runs the active task of its partition, otherwise forwards the read to the node that the
 * routing table names.
 *
 * <p>What must hold: <b>never a wrong answer</b>. Routing tables may be stale (each node reads the
 * routing topic at its own pace, and a table is published before its tasks have moved), so the
 * table only decides where to <em>send</em> a read; whether to <em>answer</em> it is decided by
 * Kafka Streams on the answering node: a read is answered from an <em>active</em> replica ({@code
 * requireActive}), or, with {@code staleOk=true}, from a standby that says so and gives its lag.
 * Hence:
 *
 * <ul>
 *   <li>A node that runs the key's active task answers, whatever its table says.
 *   <li>A node whose table names itself but that does not run the task answers 503 REBALANCING.
 *   <li>A read travels at most {@link #MAX_HOPS} hops. A forwarded read that arrives at a node that
 *       does not run the task is forwarded once more only when this node's table is newer than the
 *       sender's (the sender routed by a stale table); otherwise the nodes disagree about a move in
 *       progress, and the answer is 503 with Retry-After, which cannot loop.
 * </ul>
 */
final class KeyReadRouter {
  /** The most hops a read makes: the first forward, and one correction by a newer table. */
  static final int MAX_HOPS = 2;

  private final LocalNode node;
  private final KeyOwnerLookup owners;
  private final PeerForwarder forwarder;
  private final Supplier<HostInfo> self;

  KeyReadRouter(
      LocalNode node, KeyOwnerLookup owners, PeerForwarder forwarder, Supplier<HostInfo> self) {
    this.node = node;
    this.owners = owners;
    this.forwarder = forwarder;
    this.self = self;
  }

  /**
   * How a read arrived.
   *
   * @param forwardedBy the node that forwarded it, if it was forwarded
   * @param hops hops made so far (0 for a client's read)
   * @param senderGeneration the routing generation the forwarding node routed by, if it said
   * @param staleOk whether a standby may answer
   */
  record ReadRequest(
      Optional<String> forwardedBy, int hops, OptionalLong senderGeneration, boolean staleOk) {
    static ReadRequest fromClient(boolean staleOk) {
      return new ReadRequest(Optional.empty(), 0, OptionalLong.empty(), staleOk);
    }
  }

  /**
   * Reads a key.
   *
   * @param store the store
   * @param key the decoded key from the URL
   * @param request how the read arrived
   */
  KeyRead read(QueryableStore<?, ?> store, String key, ReadRequest request) {
    return readTyped(store, key, request);
  }

  private <K, V> KeyRead readTyped(
      QueryableStore<K, V> store, String keyText, ReadRequest request) {
    K key = parseKey(store, keyText);
    KafkaStreams streams = usableStreams(node, store, request.staleOk());
    KeyOwner owner = owners.ownerOf(store, key);
    TaskId task = owner.task();
    boolean running = streams.state() == KafkaStreams.State.RUNNING;
    LocalTasks local = LocalTasks.of(streams);
    if (running && local.active().contains(task)) {
      return new KeyRead.Local(readLocal(store, streams, keyText, key, owner, true));
    }
    if (request.staleOk() && (local.active().contains(task) || local.standby().contains(task))) {
      return new KeyRead.Local(readLocal(store, streams, keyText, key, owner, false));
    }
    Optional<KeyOwner.Replica> active = owner.active();
    if (active.isPresent() && active.get().nodeId().equals(node.nodeId())) {
      throw rebalancing(
          store,
          "routing table generation "
              + owner.generation()
              + " names this node for task "
              + task
              + ", but the task is not active here (it is moving)");
    }
    if (request.forwardedBy().isPresent()) {
      boolean newer =
          request.senderGeneration().isPresent()
              && owner.generation() > request.senderGeneration().getAsLong();
      if (!newer || request.hops() >= MAX_HOPS) {
        throw rebalancing(
            store,
            "node "
                + request.forwardedBy().get()
                + " forwarded this read here, but this node does not run task "
                + task
                + " and its routing table (generation "
                + owner.generation()
                + ") names "
                + active.map(KeyOwner.Replica::nodeId).orElse("no node")
                + " (ownership is moving)");
      }
    }
    KeyOwner.Replica target = active.filter(KeyOwner.Replica::reachable).orElse(null);
    if (target == null && request.staleOk()) {
      target =
          owner.standbys().stream()
              .filter(r -> r.reachable() && !r.nodeId().equals(node.nodeId()))
              .findFirst()
              .orElse(null);
    }
    if (target == null) {
      throw rebalancing(
          store,
          "routing table generation "
              + owner.generation()
              + " names no reachable node for task "
              + task
              + active.map(a -> " (" + a.nodeId() + " is " + a.state() + ")").orElse(""));
    }
    String path =
        "/v1/stores/"
            + KeyCodec.encode(store.storeName())
            + "/keys/"
            + KeyCodec.encode(keyText)
            + (request.staleOk() ? "?staleOk=true" : "");
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(PeerForwarder.ROUTING_GENERATION, Long.toString(owner.generation()));
    headers.put(PeerForwarder.HOPS, Integer.toString(request.hops() + 1));
    return new KeyRead.Relayed(forwarder.get(target.endpoint().orElseThrow(), path, headers));
  }

  private static <K> K parseKey(QueryableStore<K, ?> store, String keyText) {
    String why;
    try {
      K key = store.keyParser().apply(keyText);
      if (key != null) {
        return key;
      }
      why = "the key parser returned null";
    } catch (IllegalArgumentException e) {
      why = e.getMessage() == null ? "the key parser refused it" : e.getMessage();
    }
    throw HttpErrors.fatal(
        HttpErrors.BAD_KEY,
        "'"
            + KeyCodec.abbreviate(keyText)
            + "' is not a valid key of store '"
            + store.storeName()
            + "': "
            + why);
  }

  private <K, V> KeyAnswer readLocal(
      QueryableStore<K, V> store,
      KafkaStreams streams,
      String keyText,
      K key,
      KeyOwner owner,
      boolean requireActive) {
    int partition = owner.partition();
    StateQueryRequest<V> request =
        StateQueryRequest.inStore(store.storeName())
            .withQuery(KeyQuery.<K, V>withKey(key))
            .withPartitions(Set.of(partition));
    if (requireActive) {
      request = request.requireActive();
    }
    StateQueryResult<V> result;
    try {
      result = streams.query(request);
    } catch (InvalidStateStoreException e) {
      throw rebalancing(store, "the local store is not queryable (" + e.getMessage() + ")");
    }
    QueryResult<V> partitionResult = result.getPartitionResults().get(partition);
    if (partitionResult == null) {
      throw rebalancing(store, "partition " + partition + " is not hosted here any more");
    }
    if (partitionResult.isFailure()) {
      switch (partitionResult.getFailureReason()) {
        case NOT_ACTIVE, NOT_PRESENT, NOT_UP_TO_BOUND ->
            throw rebalancing(
                store,
                "partition "
                    + partition
                    + " is not "
                    + (requireActive ? "active" : "hosted")
                    + " here right now ("
                    + partitionResult.getFailureReason()
                    + ")");
        default ->
            throw new IllegalStateException(
                "IQv2 key query on store '"
                    + store.storeName()
                    + "' partition "
                    + partition
                    + " failed: "
                    + partitionResult.getFailureReason()
                    + ": "
                    + partitionResult.getFailureMessage());
      }
    }
    V value = partitionResult.getResult();
    if (value == null) {
      throw HttpErrors.fatal(
          HttpErrors.KEY_NOT_FOUND,
          "Store '"
              + store.storeName()
              + "' has no value for key '"
              + KeyCodec.abbreviate(keyText)
              + "'.");
    }
    Position position = partitionResult.getPosition();
    boolean standby = !LocalTasks.of(streams).active().contains(owner.task());
    return new KeyAnswer(
        store.storeName(),
        keyText,
        store.toJson().apply(value),
        node.nodeId(),
        partition,
        PositionTokens.encode(position == null ? Position.emptyPosition() : position),
        owner.generation(),
        requireActive ? null : standby,
        requireActive || !standby ? null : lag(streams, store.storeName(), partition));
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
   * The stage's Kafka Streams instance if it can answer: RUNNING, or REBALANCING for a read that
   * accepts a standby; otherwise a 503 REBALANCING.
   */
  static KafkaStreams usableStreams(LocalNode node, QueryableStore<?, ?> store, boolean staleOk) {
    RunningStage stage =
        node.stage(store.stageName())
            .orElseThrow(() -> rebalancing(store, "its stage has not started yet"));
    KafkaStreams streams = stage.streams();
    KafkaStreams.State state = streams.state();
    if (state != KafkaStreams.State.RUNNING
        && !(staleOk && state == KafkaStreams.State.REBALANCING)) {
      throw rebalancing(store, "its stage '" + store.stageName() + "' is " + state);
    }
    return streams;
  }

  static RuntimeException rebalancing(QueryableStore<?, ?> store, String why) {
    return HttpErrors.retriable(
        HttpErrors.REBALANCING,
        "Store '"
            + store.storeName()
            + "' cannot answer for this key right now: "
            + why
            + ". Retry after the Retry-After delay.");
  }

  /** The tasks this node's stage runs, by Kafka Streams' own account. */
  record LocalTasks(Set<TaskId> active, Set<TaskId> standby) {
    static LocalTasks of(KafkaStreams streams) {
      Set<TaskId> active = new java.util.HashSet<>();
      Set<TaskId> standby = new java.util.HashSet<>();
      try {
        streams
            .metadataForLocalThreads()
            .forEach(
                t -> {
                  t.activeTasks().forEach(m -> active.add(m.taskId()));
                  t.standbyTasks().forEach(m -> standby.add(m.taskId()));
                });
      } catch (IllegalStateException e) {
        // Not running: no local task can answer.
      }
      return new LocalTasks(active, standby);
    }
  }

  /** The outcome of a key read: a local answer or the owner's relayed answer. */
  sealed interface KeyRead {
    /**
     * Read here.
     *
     * @param answer the answer
     */
    record Local(KeyAnswer answer) implements KeyRead {}

    /**
     * Read by the owner.
     *
     * @param answer its answer
     */
    record Relayed(PeerForwarder.ForwardedAnswer answer) implements KeyRead {}
  }

  /**
   * The JSON answer of a key read.
   *
   * @param store the store
   * @param key the key
   * @param value the value, as {@link QueryableStore#toJson()} made it
   * @param node the node that read it
   * @param partition the store partition
   * @param position the store's position token at the read
   * @param generation the routing table generation the answering node routed by
   * @param stale for a {@code staleOk} read: whether a standby answered; absent otherwise
   * @param lag for a standby's answer: its offset lag behind the changelog end (-1 if unknown)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record KeyAnswer(
      String store,
      String key,
      Object value,
      String node,
      int partition,
      String position,
      long generation,
      Boolean stale,
      Long lag) {}
}
