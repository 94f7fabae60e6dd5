package dev.backbone.server.internals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.server.QueryableStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code POST /v1/stores/{store}/keys:batchGet}: every key read under the rules of a single
 * key read ({@link KeyReadRouter}), the ones this node holds read here, the others sent on in one
 * batch per owner, all at once.
 *
 * <p>A key that cannot be read right now (its owner moving, unreachable) fails alone, with the
 * error and status a single read would have had; it never fails the batch, and it is never answered
 * from a replica the single read would not have used. A forwarded batch is read at the owner as
 * forwarded single reads are, so it makes at most the same hops.
 */
final class BatchReader {
  private static final Logger log = LoggerFactory.getLogger(BatchReader.class);

  private final KeyOwnerLookup owners;
  private final KeyReadRouter router;
  private final PeerForwarder forwarder;
  private final ObjectMapper mapper;
  private final HttpErrors errors;
  private final LocalNode node;

  BatchReader(
      LocalNode node,
      KeyOwnerLookup owners,
      KeyReadRouter router,
      PeerForwarder forwarder,
      ObjectMapper mapper,
      HttpErrors errors) {
    this.node = node;
    this.owners = owners;
    this.router = router;
    this.forwarder = forwarder;
    this.mapper = mapper;
    this.errors = errors;
  }

  /** The answer of every key, in the order given. */
  CompletableFuture<List<Object>> read(
      QueryableStore<?, ?> store, List<String> keys, KeyReadRouter.ReadRequest request) {
    return readTyped(store, keys, request);
  }

  private <K, V> CompletableFuture<List<Object>> readTyped(
      QueryableStore<K, V> store, List<String> keys, KeyReadRouter.ReadRequest request) {
    Object[] results = new Object[keys.size()];
    Map<String, Group> groups = new LinkedHashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      String keyText = keys.get(i);
      try {
        K key = KeyReadRouter.parseKey(store, keyText);
        RunningStage stage = KeyReadRouter.usableStage(node, store, request.staleOk());
        KeyOwner owner = owners.ownerOf(store, key);
        KeyReadRouter.Placement placement = router.place(stage, store, owner, request);
        LocalReplicaReader.LocalRead<K, V> read =
            new LocalReplicaReader.LocalRead<>(
                store, stage, keyText, key, owner, request.staleOk(), request.minPosition(), false);
        if (placement instanceof KeyReadRouter.Placement.Remote remote) {
          groups.computeIfAbsent(remote.target().nodeId(), n -> new Group(remote)).indexes().add(i);
        } else {
          KeyReadRouter.KeyRead local =
              placement instanceof KeyReadRouter.Placement.LocalStale stale
                  ? router.replicas().readStale(read, stale.active())
                  : router.replicas().readActive(read);
          results[i] = ((KeyReadRouter.KeyRead.Local) local).answer();
        }
      } catch (RuntimeException e) {
        results[i] = failed(store, keyText, e);
      }
    }
    List<CompletableFuture<Void>> sent = new ArrayList<>();
    for (Group group : groups.values()) {
      sent.add(forward(store, keys, request, group, results));
    }
    return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
        .thenApply(done -> List.of(results));
  }

  private CompletableFuture<Void> forward(
      QueryableStore<?, ?> store,
      List<String> keys,
      KeyReadRouter.ReadRequest request,
      Group group,
      Object[] results) {
    List<String> sentKeys = group.indexes().stream().map(keys::get).toList();
    byte[] body;
    try {
      body = mapper.writeValueAsBytes(Map.of("keys", sentKeys));
    } catch (IOException e) {
      throw new IllegalStateException("a list of strings is always JSON", e);
    }
    List<String> params = KeyReadRouter.readParams(request);
    String path =
        "/v1/stores/"
            + KeyCodec.encode(store.storeName())
            + "/keys:batchGet"
            + (params.isEmpty() ? "" : "?" + String.join("&", params));
    return forwarder
        .postJson(
            group.remote().target().endpoint().orElseThrow(), path, group.remote().headers(), body)
        .thenAccept(
            answer -> {
              JsonNode parsed = parse(answer);
              if (answer.status() != 200) {
                throw PeerErrors.relayed(answer.status(), parsed);
              }
              JsonNode items = parsed.path("results");
              if (!items.isArray() || items.size() != sentKeys.size()) {
                throw new IllegalStateException(
                    "A peer answered a batch of "
                        + sentKeys.size()
                        + " keys with "
                        + items.size()
                        + " results");
              }
              for (int j = 0; j < sentKeys.size(); j++) {
                results[group.indexes().get(j)] = items.get(j);
              }
            })
        .exceptionally(
            failure -> {
              Exception cause = HttpApi.unwrap(failure);
              for (int index : group.indexes()) {
                results[index] = failed(store, keys.get(index), cause);
              }
              return null;
            });
  }

  private JsonNode parse(PeerForwarder.ForwardedAnswer answer) {
    try {
      return mapper.readTree(answer.body());
    } catch (IOException e) {
      throw new IllegalStateException(
          "A peer answered a batch get with a body that is not JSON", e);
    }
  }

  private Object failed(QueryableStore<?, ?> store, String key, Throwable failure) {
    ApiError error = errors.toApiError(failure);
    if (error.status() == 500) {
      log.error("batch get of store '{}': {}", store.storeName(), error.message(), failure);
    }
    return new BatchError(
        new ApiError.Detail(error.code(), error.message()), store.storeName(), key, error.status());
  }

  /** The keys of one batch going to one peer. */
  private record Group(KeyReadRouter.Placement.Remote remote, List<Integer> indexes) {
    Group(KeyReadRouter.Placement.Remote remote) {
      this(remote, new ArrayList<>());
    }
  }

  /**
   * A key a batch get could not read.
   *
   * @param error its code and message
   * @param store the store
   * @param key the key
   * @param status the status a single read of it would have had
   */
  record BatchError(ApiError.Detail error, String store, String key, int status) {}
}
