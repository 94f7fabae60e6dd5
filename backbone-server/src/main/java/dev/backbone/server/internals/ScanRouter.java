package dev.backbone.server.internals;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.server.QueryableStore;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.RangeQuery;
import org.apache.kafka.streams.state.KeyValueIterator;

/**
 * Serves range and prefix scans: {@code GET /v1/stores/{store}/range} and {@code
 * /v1/stores/{store}/prefix/{p}}, over the whole store or ({@code partition=}) one partition.
 *
 * <p>What must hold: a scan returns keys in the store's key order (the serialized bytes, as RocksDB
 * keeps them), and paging through it with the cursor <b>never skips or repeats a key</b>, whatever
 * moves between pages. Every page is read under the same rules as a key read ({@link
 * KeyReadRouter}, {@link LocalReplicaReader}): each partition from its caught-up active, or, with
 * {@code staleOk}, from any replica marked stale with its lag; a partition that cannot answer fails
 * the whole page with its error (503 while it moves), never a page with a silent gap.
 *
 * <p>How a page over the whole store is made: each of the P partitions is asked for its next keys
 * after the cursor, at most {@code q = min(limit, ceil(2 limit / P) + 1)} (the local ones read
 * here, the others from their owners, in parallel), since keys spread evenly over partitions by
 * their hash. The answers are merged in key order. A partition that had more than it returned is
 * cut short at its last key; the page keeps only merged keys up to the smallest such cut, then the
 * first {@code limit} of those, and its cursor is the last key kept. No key up to the cursor is
 * missing: every partition returned all its keys up to its own cut, and the cursor is at or before
 * every cut. A page may so hold fewer than {@code limit} keys and still have a cursor; it is never
 * empty while keys remain, since the smallest cut is itself a key of the merge. Reading {@code q}
 * rather than {@code limit} keys per partition keeps a page's work near {@code 2 limit} keys
 * instead of {@code P limit}. The cursor is a key, not an iterator (see {@link ScanCursor}), so a
 * rebalance between pages changes nothing but who answers the next one.
 */
final class ScanRouter {
  private final LocalNode node;
  private final KeyOwnerLookup owners;
  private final KeyReadRouter keys;
  private final PeerForwarder forwarder;
  private final ObjectMapper mapper;

  ScanRouter(
      LocalNode node,
      KeyOwnerLookup owners,
      KeyReadRouter keys,
      PeerForwarder forwarder,
      ObjectMapper mapper) {
    this.node = node;
    this.owners = owners;
    this.keys = keys;
    this.forwarder = forwarder;
    this.mapper = mapper;
  }

  /**
   * What a scan covers.
   *
   * @param from the first key (inclusive) of a range scan, if bounded below
   * @param to the last key (inclusive) of a range scan, if bounded above
   * @param prefix the key prefix of a prefix scan; empty for a range scan
   */
  record ScanSpec(Optional<String> from, Optional<String> to, Optional<String> prefix) {
    /** The scan's identity, which a cursor is bound to. */
    String describe() {
      return prefix.isPresent()
          ? "prefix\u0000" + prefix.get()
          : "range\u0000"
              + from.map(f -> "[" + f).orElse("*")
              + "\u0000"
              + to.map(t -> t + "]").orElse("*");
    }
  }

  /**
   * One page request.
   *
   * @param spec what the scan covers
   * @param limit keys per page at most
   * @param cursor the cursor of the previous page, if this is not the first
   * @param read how the read arrived and its consistency choices
   */
  record ScanRequest(
      ScanSpec spec, int limit, Optional<String> cursor, KeyReadRouter.ReadRequest read) {}

  /**
   * One key and its value.
   *
   * @param key the key as text
   * @param value the value as {@link QueryableStore#toJson()} made it
   * @param partition the partition that holds it (in pages over the whole store)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Item(String key, Object value, Integer partition) {}

  /**
   * A page of one partition.
   *
   * @param store the store
   * @param partition the partition
   * @param node the node that read it
   * @param items the keys, in key order
   * @param cursor the cursor of the next page; absent when the partition has no more keys
   * @param position the position token of exactly the state read
   * @param generation the routing generation of the answering node
   * @param stale for a {@code staleOk} read whether it may be behind; absent otherwise
   * @param lag for a stale page the replica's lag; absent otherwise
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record PartitionPage(
      String store,
      int partition,
      String node,
      List<Item> items,
      String cursor,
      String position,
      long generation,
      Boolean stale,
      Long lag) {}

  /**
   * A page over the whole store.
   *
   * @param store the store
   * @param items the keys of all partitions, merged in key order
   * @param cursor the cursor of the next page; absent on the last page
   * @param position the merged position token of every partition read
   * @param generation the routing generation of the answering node
   * @param nodes the node that read each partition
   * @param stale for a {@code staleOk} read whether any partition may be behind; absent otherwise
   * @param lag for a stale page the largest lag of a partition read; absent otherwise
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ScanPage(
      String store,
      List<Item> items,
      String cursor,
      String position,
      long generation,
      TreeMap<Integer, String> nodes,
      Boolean stale,
      Long lag) {}

  /** A page over every partition of the store, merged in key order. */
  CompletableFuture<ScanPage> scan(QueryableStore<?, ?> store, ScanRequest request) {
    return scanTyped(store, request);
  }

  /** A page of one partition: read here, or by its owner. */
  CompletableFuture<PartitionPage> scanPartition(
      QueryableStore<?, ?> store, int partition, ScanRequest request) {
    return partitionOf(store, partition, request).thenApply(Fetched::page);
  }

  private <K, V> CompletableFuture<Fetched> partitionOf(
      QueryableStore<K, V> store, int partition, ScanRequest request) {
    return partitionTyped(store, partition, request, bounds(store, request));
  }

  private <K, V> CompletableFuture<ScanPage> scanTyped(
      QueryableStore<K, V> store, ScanRequest request) {
    int partitions = owners.partitionCount(store);
    int perPartition =
        (int) Math.min(request.limit(), (2L * request.limit() + partitions - 1) / partitions + 1);
    ScanRequest each =
        new ScanRequest(request.spec(), perPartition, request.cursor(), request.read());
    Bounds<K> bounds = bounds(store, each);
    List<CompletableFuture<Fetched>> pages = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      pages.add(partitionTyped(store, p, each, bounds));
    }
    return CompletableFuture.allOf(pages.toArray(CompletableFuture[]::new))
        .thenApply(
            done -> merge(store, request, pages.stream().map(CompletableFuture::join).toList()));
  }

  private <K, V> ScanPage merge(
      QueryableStore<K, V> store, ScanRequest request, List<Fetched> pages) {
    List<Keyed> all = new ArrayList<>();
    byte[] cut = null;
    Position position = Position.emptyPosition();
    TreeMap<Integer, String> nodes = new TreeMap<>();
    boolean stale = false;
    long lag = 0;
    long generation = 0;
    for (Fetched fetched : pages) {
      PartitionPage page = fetched.page();
      for (int i = 0; i < page.items().size(); i++) {
        Item item = page.items().get(i);
        all.add(
            new Keyed(
                fetched.keyBytes().get(i), new Item(item.key(), item.value(), page.partition())));
      }
      if (page.cursor() != null && !page.items().isEmpty()) {
        byte[] last = fetched.keyBytes().get(page.items().size() - 1);
        if (cut == null || Arrays.compareUnsigned(last, cut) < 0) {
          cut = last;
        }
      }
      position = position.merge(PositionTokens.decode(page.position()));
      nodes.put(page.partition(), page.node());
      stale |= Boolean.TRUE.equals(page.stale());
      if (page.lag() != null) {
        lag = page.lag() < 0 || lag < 0 ? -1 : Math.max(lag, page.lag());
      }
      generation = Math.max(generation, page.generation());
    }
    all.sort(Comparator.comparing(Keyed::bytes, Arrays::compareUnsigned));
    List<Item> kept = new ArrayList<>(Math.min(request.limit(), all.size()));
    for (Keyed keyed : all) {
      if (kept.size() == request.limit()
          || (cut != null && Arrays.compareUnsigned(keyed.bytes(), cut) > 0)) {
        break;
      }
      kept.add(keyed.item());
    }
    String cursor =
        (cut != null || all.size() > kept.size()) && !kept.isEmpty()
            ? ScanCursor.encode(
                store.storeName(), request.spec().describe(), kept.get(kept.size() - 1).key())
            : null;
    boolean staleOk = request.read().staleOk();
    return new ScanPage(
        store.storeName(),
        kept,
        cursor,
        PositionTokens.encode(position),
        generation,
        nodes,
        staleOk ? stale : null,
        staleOk && stale ? lag : null);
  }

  private <K, V> CompletableFuture<Fetched> partitionTyped(
      QueryableStore<K, V> store, int partition, ScanRequest request, Bounds<K> bounds) {
    RunningStage stage = KeyReadRouter.usableStage(node, store, request.read().staleOk());
    KeyOwner owner = owners.ownerOfPartition(store, partition);
    KeyReadRouter.Placement placement = keys.place(stage, store, owner, request.read());
    if (placement instanceof KeyReadRouter.Placement.Remote remote) {
      String path = partitionPath(store, partition, request);
      return forwarder
          .get(remote.target().endpoint().orElseThrow(), path, remote.headers())
          .thenApply(answer -> fetched(store, answer));
    }
    try {
      LocalReplicaReader.Target<K, V> target =
          new LocalReplicaReader.Target<>(
              store, stage, partition, request.read().staleOk(), request.read().minPosition());
      RangeQuery<K, V> query = bounds.query();
      LocalReplicaReader.Served<List<KeyValue<K, V>>> served =
          placement instanceof KeyReadRouter.Placement.LocalStale local
              ? keys.replicas()
                  .serveStale(target, query, it -> collect(store, bounds, it), local.active())
              : keys.replicas().serveActive(target, query, it -> collect(store, bounds, it));
      return CompletableFuture.completedFuture(
          localPage(store, partition, owner, request, bounds, served));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private <K, V> Fetched localPage(
      QueryableStore<K, V> store,
      int partition,
      KeyOwner owner,
      ScanRequest request,
      Bounds<K> bounds,
      LocalReplicaReader.Served<List<KeyValue<K, V>>> served) {
    List<KeyValue<K, V>> read = served.result();
    boolean more = read.size() > request.limit();
    List<KeyValue<K, V>> kept = more ? read.subList(0, request.limit()) : read;
    List<Item> items = new ArrayList<>(kept.size());
    List<byte[]> bytes = new ArrayList<>(kept.size());
    for (KeyValue<K, V> kv : kept) {
      items.add(new Item(store.keyFormatter().apply(kv.key), store.toJson().apply(kv.value), null));
      bytes.add(owners.serializedKey(store, kv.key));
    }
    String cursor =
        more
            ? ScanCursor.encode(
                store.storeName(), request.spec().describe(), items.get(items.size() - 1).key())
            : null;
    Position position = served.position() == null ? Position.emptyPosition() : served.position();
    PartitionPage page =
        new PartitionPage(
            store.storeName(),
            partition,
            node.nodeId(),
            items,
            cursor,
            PositionTokens.encode(position),
            owner.generation(),
            served.stale(),
            Boolean.TRUE.equals(served.stale()) ? served.lag() : null);
    return new Fetched(page, bytes);
  }

  /**
   * Reads the iterator up to one key past the page (to learn whether there is more) and closes it.
   * Keys the range query cannot exclude by itself are dropped here: the cursor's key (the lower
   * bound is inclusive) and, for a prefix scan, keys past the prefix, where the scan stops.
   */
  private <K, V> List<KeyValue<K, V>> collect(
      QueryableStore<K, V> store, Bounds<K> bounds, KeyValueIterator<K, V> iterator) {
    List<KeyValue<K, V>> out = new ArrayList<>();
    try (iterator) {
      while (iterator.hasNext() && out.size() <= bounds.limit()) {
        KeyValue<K, V> kv = iterator.next();
        byte[] key = owners.serializedKey(store, kv.key);
        if (bounds.after() != null && Arrays.compareUnsigned(key, bounds.after()) <= 0) {
          continue;
        }
        if (bounds.prefix() != null && !startsWith(key, bounds.prefix())) {
          if (Arrays.compareUnsigned(key, bounds.prefix()) > 0) {
            break;
          }
          continue;
        }
        if (bounds.to() != null && Arrays.compareUnsigned(key, bounds.to()) > 0) {
          break;
        }
        out.add(kv);
      }
    }
    return out;
  }

  private static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length
        && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  private <K, V> Bounds<K> bounds(QueryableStore<K, V> store, ScanRequest request) {
    ScanSpec spec = request.spec();
    Optional<K> after =
        request
            .cursor()
            .map(c -> ScanCursor.decode(c, store.storeName(), spec.describe()))
            .map(k -> KeyReadRouter.parseKey(store, k));
    Optional<K> from = spec.from().or(spec::prefix).map(k -> KeyReadRouter.parseKey(store, k));
    Optional<K> to = spec.to().map(k -> KeyReadRouter.parseKey(store, k));
    byte[] afterBytes = after.map(k -> owners.serializedKey(store, k)).orElse(null);
    byte[] fromBytes = from.map(k -> owners.serializedKey(store, k)).orElse(null);
    Optional<K> lower = from;
    if (afterBytes != null
        && (fromBytes == null || Arrays.compareUnsigned(afterBytes, fromBytes) >= 0)) {
      lower = after;
    }
    return new Bounds<>(
        lower,
        afterBytes,
        spec.prefix().isPresent() ? fromBytes : null,
        to.map(k -> owners.serializedKey(store, k)).orElse(null),
        request.limit());
  }

  private <K, V> Fetched fetched(QueryableStore<K, V> store, PeerForwarder.ForwardedAnswer answer) {
    JsonNode body;
    try {
      body = mapper.readTree(answer.body());
    } catch (IOException e) {
      throw new IllegalStateException(
          "A peer answered a partition scan with a body that is not JSON: " + e.getMessage(), e);
    }
    if (answer.status() != 200) {
      throw PeerErrors.relayed(answer.status(), body);
    }
    List<Item> items = new ArrayList<>();
    List<byte[]> bytes = new ArrayList<>();
    for (JsonNode item : body.path("items")) {
      String key = item.path("key").asText();
      items.add(new Item(key, item.get("value"), null));
      bytes.add(owners.serializedKey(store, KeyReadRouter.parseKey(store, key)));
    }
    PartitionPage page =
        new PartitionPage(
            body.path("store").asText(),
            body.path("partition").asInt(),
            body.path("node").asText(),
            items,
            body.hasNonNull("cursor") ? body.get("cursor").asText() : null,
            body.path("position").asText(),
            body.path("generation").asLong(),
            body.has("stale") ? body.get("stale").asBoolean() : null,
            body.has("lag") ? body.get("lag").asLong() : null);
    return new Fetched(page, bytes);
  }

  private static String partitionPath(
      QueryableStore<?, ?> store, int partition, ScanRequest request) {
    ScanSpec spec = request.spec();
    StringBuilder path =
        new StringBuilder("/v1/stores/").append(KeyCodec.encode(store.storeName()));
    if (spec.prefix().isPresent()) {
      path.append("/prefix/").append(KeyCodec.encode(spec.prefix().get()));
    } else {
      path.append("/range");
    }
    List<String> params = new ArrayList<>(KeyReadRouter.readParams(request.read()));
    params.add("partition=" + partition);
    params.add("limit=" + request.limit());
    spec.from().ifPresent(f -> params.add("from=" + query(f)));
    spec.to().ifPresent(t -> params.add("to=" + query(t)));
    request.cursor().ifPresent(c -> params.add("cursor=" + query(c)));
    return path.append('?').append(String.join("&", params)).toString();
  }

  private static String query(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /**
   * The bounds of one partition's read.
   *
   * @param lower the range query's lower bound (the greater of the scan's start and the cursor)
   * @param after the cursor's key, serialized: only keys after it are kept
   * @param prefix the prefix, serialized, for a prefix scan
   * @param to the upper bound, serialized
   * @param limit the page size
   */
  private record Bounds<K>(Optional<K> lower, byte[] after, byte[] prefix, byte[] to, int limit) {
    /**
     * The range query: bounded below only, since the cursor may lie past the upper bound (a range
     * whose lower bound exceeds its upper one is not valid in every store); {@link #collect} stops
     * at the upper bound.
     */
    <V> RangeQuery<K, V> query() {
      return lower.isPresent() ? RangeQuery.withLowerBound(lower.get()) : RangeQuery.withNoBounds();
    }
  }

  private record Keyed(byte[] bytes, Item item) {}

  /** A partition's page with its keys serialized, for the merge. */
  private record Fetched(PartitionPage page, List<byte[]> keyBytes) {}
}
