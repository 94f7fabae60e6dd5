package dev.backbone.server.internals;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.backbone.server.QueryableStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Serves {@code GET /v1/stores/{store}/keys/{key}} on any node: reads the key locally when this
 * node runs the active task of its partition, otherwise forwards the read to the node that the
 * routing table names.
 *
 * <p>What must hold: <b>never a wrong answer</b>. A value presented as current (not marked stale)
 * is the committed value of the key's active replica, caught up with its changelog, at the moment
 * of the read; a "not found" presented as current means that replica holds no value; everything
 * else is either marked {@code "stale":true} with the replica's lag, or a retriable 503.
 *
 * <p>Routing tables may be stale (each node reads the routing topic at its own pace, and a table is
 * published before its tasks have moved), so the table only decides where to <em>send</em> a read;
 * whether to <em>answer</em> it is decided on the answering node, by Kafka Streams and by the
 * stage's {@link RestoreTracker}. IQv2's {@code requireActive} alone is not enough: {@code
 * KafkaStreams#query} accepts it for any active task of a {@code RUNNING} stream thread, including
 * a task that is restoring after a corruption wipe (see {@link RestoreTracker}). Hence:
 *
 * <ul>
 *   <li>A node that runs the key's active task answers, whatever its table says, but only if the
 *       tracker showed that replica caught up, in the same incarnation, before and after the query;
 *       otherwise 503 RESTORING, or with {@code staleOk=true} the same answer marked stale.
 *   <li>With {@code staleOk=true} a local standby answers, marked stale with its lag; a "not found"
 *       from it is marked the same way.
 *   <li>Under exactly-once a read sees committed state only: IQv2 {@code READ_COMMITTED} past the
 *       record cache (which such a stage runs without, see {@link StageProperties}), and the
 *       position token is the query result's, the position of exactly what was read.
 *   <li>A node whose table names itself but that does not run the task answers 503 REBALANCING.
 *   <li>A read travels at most {@link #MAX_HOPS} hops. A forwarded read that arrives at a node that
 *       does not run the task is forwarded once more only when this node's table is newer than the
 *       sender's (the sender routed by a stale table); otherwise the nodes disagree about a move in
 *       progress, and the answer is 503 with Retry-After, which cannot loop.
 * </ul>
 */
final class KeyReadRouter {
  /** The content type of a binary read. */
  static final String OCTET_STREAM = "application/octet-stream";

  /** The most hops a read makes: the first forward, and one correction by a newer table. */
  static final int MAX_HOPS = 2;

  /** How old a look at this node's local tasks may be when a read is placed. */
  static final Duration LOCAL_TASKS_MAX_AGE = Duration.ofMillis(50);

  private final Map<KafkaStreams, Seen> lastSeen = new ConcurrentHashMap<>();

  private final LocalNode node;
  private final KeyOwnerLookup owners;
  private final PeerForwarder forwarder;
  private final ForwardCoalescer coalescer;
  private final Supplier<HostInfo> self;
  private final LocalReplicaReader replicas;

  KeyReadRouter(
      LocalNode node,
      KeyOwnerLookup owners,
      PeerForwarder forwarder,
      ForwardCoalescer coalescer,
      Supplier<HostInfo> self) {
    this.node = node;
    this.owners = owners;
    this.forwarder = forwarder;
    this.coalescer = coalescer;
    this.self = self;
    this.replicas = new LocalReplicaReader(node.nodeId(), owners);
  }

  /**
   * How a read arrived.
   *
   * @param forwardedBy the node that forwarded it, if it was forwarded
   * @param hops hops made so far (0 for a client's read)
   * @param senderGeneration the routing generation the forwarding node routed by, if it said
   * @param staleOk whether a standby may answer
   * @param minPosition the position the answer must reflect at least ({@code minPosition}), if any
   */
  record ReadRequest(
      Optional<String> forwardedBy,
      int hops,
      OptionalLong senderGeneration,
      boolean staleOk,
      Optional<Position> minPosition) {
    static ReadRequest fromClient(boolean staleOk, Optional<Position> minPosition) {
      return new ReadRequest(Optional.empty(), 0, OptionalLong.empty(), staleOk, minPosition);
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
    return readTyped(store, key, request, false);
  }

  /**
   * Reads a key, as its bytes ({@link QueryableStore#toBytes()}, which the store must have): a
   * local answer carries them in {@link KeyRead.Local#bytes()}, a relayed one is the owner's binary
   * answer.
   */
  KeyRead readBytes(QueryableStore<?, ?> store, String key, ReadRequest request) {
    return readTyped(store, key, request, true);
  }

  private <K, V> KeyRead readTyped(
      QueryableStore<K, V> store, String keyText, ReadRequest request, boolean binary) {
    K key = parseKey(store, keyText);
    RunningStage stage = usableStage(node, store, request.staleOk());
    KeyOwner owner = owners.ownerOf(store, key);
    LocalReplicaReader.LocalRead<K, V> read =
        new LocalReplicaReader.LocalRead<>(
            store, stage, keyText, key, owner, request.staleOk(), request.minPosition(), binary);
    Placement placement = place(stage, store, owner, request);
    if (placement instanceof Placement.LocalActive) {
      return replicas.readActive(read);
    }
    if (placement instanceof Placement.LocalStale stale) {
      return replicas.readStale(read, stale.active());
    }
    Placement.Remote remote = (Placement.Remote) placement;
    List<String> params = readParams(request);
    String query = params.isEmpty() ? "" : "?" + String.join("&", params);
    HostInfo target = remote.target().endpoint().orElseThrow();
    if (!binary) {
      return new KeyRead.Relayed(
          coalescer.get(
              target,
              KeyCodec.encode(store.storeName()),
              keyText,
              KeyCodec.encode(keyText),
              query,
              remote.headers()));
    }
    String path =
        "/v1/stores/"
            + KeyCodec.encode(store.storeName())
            + "/keys/"
            + KeyCodec.encode(keyText)
            + query;
    Map<String, String> headers = new HashMap<>(remote.headers());
    headers.put("Accept", OCTET_STREAM);
    return new KeyRead.Relayed(forwarder.get(target, path, headers));
  }

  /** The reader of this node's local replicas. */
  LocalReplicaReader replicas() {
    return replicas;
  }

  /**
   * Where a read of one partition is answered: by this node's active replica, by a replica here
   * marked stale, or by a peer (the task's active, or for a {@code staleOk} read a standby when the
   * active is unreachable), under the hop rules of this class.
   *
   * @throws dev.backbone.errors.RetriableBackboneException {@code REBALANCING} when no node can
   *     answer right now
   */
  Placement place(
      RunningStage stage, QueryableStore<?, ?> store, KeyOwner owner, ReadRequest request) {
    if (!owner.applicationId().equals(stage.topology().applicationId())) {
      // The owner was looked up in another generation's table than this stage's: a rescale
      // switched the node in between. Its task number means another key range here.
      throw rebalancing(
          store, "this node is switching its stage to another generation (a rescale)");
    }
    KafkaStreams streams = stage.streams();
    TaskId task = owner.task();
    boolean running = streams.state() == KafkaStreams.State.RUNNING;
    LocalTasks local = localTasks(streams);
    if (running && local.active().contains(task)) {
      return new Placement.LocalActive();
    }
    if (request.staleOk() && (local.active().contains(task) || local.standby().contains(task))) {
      return new Placement.LocalStale(local.active().contains(task));
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
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(PeerForwarder.ROUTING_GENERATION, Long.toString(owner.generation()));
    headers.put(PeerForwarder.HOPS, Integer.toString(request.hops() + 1));
    return new Placement.Remote(target, headers);
  }

  /**
   * The tasks this node runs, as Kafka Streams said at most {@link #LOCAL_TASKS_MAX_AGE} ago: a
   * batch or scan places hundreds of keys, and {@code metadataForLocalThreads()} builds every
   * thread's metadata anew on each call. A look that old only decides where a read is tried first:
   * a task that moved since is refused by Kafka Streams ({@code requireActive}) or by the node's
   * routing table, with a retriable 503, never answered wrongly.
   */
  private LocalTasks localTasks(KafkaStreams streams) {
    long now = System.nanoTime();
    Seen seen = lastSeen.get(streams);
    if (seen == null || now - seen.atNanos() > LOCAL_TASKS_MAX_AGE.toNanos()) {
      seen = new Seen(LocalTasks.of(streams), now);
      if (lastSeen.size() > 64) {
        lastSeen.clear();
      }
      lastSeen.put(streams, seen);
    }
    return seen.tasks();
  }

  private record Seen(LocalTasks tasks, long atNanos) {}

  /** The query parameters that carry a read's consistency choices on to a peer. */
  static List<String> readParams(ReadRequest request) {
    List<String> params = new ArrayList<>();
    if (request.staleOk()) {
      params.add("staleOk=true");
    }
    request.minPosition().ifPresent(p -> params.add("minPosition=" + PositionTokens.encode(p)));
    return params;
  }

  /** Where a read of one partition is answered; see {@link #place}. */
  sealed interface Placement {
    /** By this node's active replica, if it is caught up. */
    record LocalActive() implements Placement {}

    /**
     * By a replica on this node, marked stale.
     *
     * @param active whether it is the active replica (not caught up) rather than a standby
     */
    record LocalStale(boolean active) implements Placement {}

    /**
     * By a peer.
     *
     * @param target the peer
     * @param headers the forwarding headers to send
     */
    record Remote(KeyOwner.Replica target, Map<String, String> headers) implements Placement {}
  }

  static <K> K parseKey(QueryableStore<K, ?> store, String keyText) {
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

  /**
   * The store's stage if it can answer: RUNNING, or REBALANCING for a read that accepts a standby;
   * otherwise a 503 REBALANCING.
   */
  static RunningStage usableStage(LocalNode node, QueryableStore<?, ?> store, boolean staleOk) {
    RunningStage stage =
        node.stage(store.stageName())
            .orElseThrow(() -> rebalancing(store, "its stage has not started yet"));
    KafkaStreams.State state = stage.streams().state();
    if (state != KafkaStreams.State.RUNNING
        && !(staleOk && state == KafkaStreams.State.REBALANCING)) {
      throw rebalancing(store, "its stage '" + store.stageName() + "' is " + state);
    }
    return stage;
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
     * @param bytes the value as bytes ({@link QueryableStore#toBytes()}), when the read asked for
     *     them and the key has a value; null otherwise
     */
    record Local(KeyAnswer answer, byte[] bytes) implements KeyRead {}

    /**
     * Sent to the owner.
     *
     * @param answer its answer, once it comes
     */
    record Relayed(CompletableFuture<PeerForwarder.ForwardedAnswer> answer) implements KeyRead {}
  }

  /**
   * The JSON answer of a key read: the value, or, for a key without one, the error shape ({@code
   * error.code} {@code KEY_NOT_FOUND}, answered with its status) with the same fields beside it, so
   * that a stale "not found" says it is stale.
   *
   * @param error for a key without a value: code and message; absent otherwise
   * @param store the store
   * @param key the key
   * @param value the value, as {@link QueryableStore#toJson()} made it; absent for a key without
   *     one
   * @param node the node that read it
   * @param partition the store partition
   * @param position the position token of exactly the state the read saw
   * @param generation the routing table generation the answering node routed by
   * @param stale for a {@code staleOk} read: whether the answer may be behind (a standby, or an
   *     active that is not caught up); absent otherwise
   * @param lag for a stale answer: the replica's offset lag behind its changelog end (-1 if
   *     unknown)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record KeyAnswer(
      ApiError.Detail error,
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
