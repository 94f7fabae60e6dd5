package dev.backbone.server.internals;

import dev.backbone.server.QueryableStore;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.query.StateQueryResult;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Serves {@code GET /v1/stores/{store}/keys/{key}} on any node: reads the key from the local store
 * when this node hosts the active task of its partition, otherwise forwards the read to the node
 * that does.
 *
 * <p>What must hold: an answer is only ever read from an <em>active</em> replica ({@code
 * requireActive}), so a client never sees a standby's stale value without asking for it; and a read
 * travels at most one hop. A forwarded read that arrives at a node which does not own the key by
 * its own metadata means the two nodes disagree (a rebalance moved the task): that is a 503 with
 * Retry-After, never a second forward, which could loop between two nodes with stale views.
 */
final class KeyReadRouter {
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
   * Reads a key.
   *
   * @param store the store
   * @param key the decoded key from the URL
   * @param forwardedBy the node that forwarded this request, if it was forwarded
   */
  KeyRead read(QueryableStore<?, ?> store, String key, Optional<String> forwardedBy) {
    return readTyped(store, key, forwardedBy);
  }

  private <K, V> KeyRead readTyped(
      QueryableStore<K, V> store, String keyText, Optional<String> forwardedBy) {
    K key = parseKey(store, keyText);
    KafkaStreams streams = runningStreams(node, store);
    KeyOwner owner = owners.ownerOf(store, key);
    HostInfo me = self.get();
    if (owner.endpoint().equals(me)) {
      return new KeyRead.Local(readLocal(store, streams, keyText, key, owner.partition()));
    }
    if (forwardedBy.isPresent()) {
      throw rebalancing(
          store,
          "node "
              + forwardedBy.get()
              + " forwarded this read here, but this node's metadata says "
              + owner.endpoint().host()
              + ":"
              + owner.endpoint().port()
              + " owns partition "
              + owner.partition()
              + " (ownership is moving)");
    }
    String path =
        "/v1/stores/" + KeyCodec.encode(store.storeName()) + "/keys/" + KeyCodec.encode(keyText);
    return new KeyRead.Relayed(forwarder.get(owner.endpoint(), path));
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
      QueryableStore<K, V> store, KafkaStreams streams, String keyText, K key, int partition) {
    StateQueryRequest<V> request =
        StateQueryRequest.inStore(store.storeName())
            .withQuery(KeyQuery.<K, V>withKey(key))
            .withPartitions(Set.of(partition))
            .requireActive();
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
                    + " is not active here right now ("
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
    return new KeyAnswer(
        store.storeName(),
        keyText,
        store.toJson().apply(value),
        node.nodeId(),
        partition,
        PositionTokens.encode(position == null ? Position.emptyPosition() : position));
  }

  /** The stage's Kafka Streams instance if it is RUNNING; otherwise a 503 REBALANCING. */
  static KafkaStreams runningStreams(LocalNode node, QueryableStore<?, ?> store) {
    RunningStage stage =
        node.stage(store.stageName())
            .orElseThrow(() -> rebalancing(store, "its stage has not started yet"));
    KafkaStreams streams = stage.streams();
    KafkaStreams.State state = streams.state();
    if (state != KafkaStreams.State.RUNNING) {
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
   */
  record KeyAnswer(
      String store, String key, Object value, String node, int partition, String position) {}
}
