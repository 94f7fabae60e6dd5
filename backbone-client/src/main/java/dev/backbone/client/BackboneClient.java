package dev.backbone.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.client.internals.ClientRouting;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A client of a Backbone cluster's query API.
 *
 * <pre>{@code
 * try (BackboneClient client = BackboneClient.builder().bootstrap("http://h:7070").build()) {
 *   KeyResult profile = client.get("customer-profiles", "c-42");
 * }
 * }</pre>
 *
 * <p>It keeps a copy of the cluster's routing table and sends each key read straight to the node
 * that runs the key's active replica, computing the key's partition exactly as the producer does
 * ({@link ClientRouting}); a batch goes out as one batch per owner. When an answer comes from
 * another node than the table named (the server forwarded it: a misroute) or a call fails as
 * retriable (503 while a partition moves, a node that does not answer), it refreshes its table and
 * tries again with exponential backoff and jitter, up to {@code maxRetries}; other errors are
 * thrown at once as {@link BackboneClientException} with the API's code. It never retries a
 * non-retriable answer, and a retried read is as correct as the first: the server answers a read
 * only from a replica that may answer it.
 *
 * <p>Metrics (Micrometer; the builder's registry or a private one): {@code backbone.client.calls}
 * (timer; tags {@code call}, {@code outcome}), {@code backbone.client.retries}, {@code
 * backbone.client.misroutes}, {@code backbone.client.routing.refreshes}. Thread-safe.
 */
public final class BackboneClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<String> bootstrap;
  private final String scheme;
  private final Optional<String> authorization;
  private final Duration timeout;
  private final int maxRetries;
  private final Duration backoff;
  private final ExecutorService executor;
  private final HttpClient http;
  private final MeterRegistry registry;
  private final Counter retries;
  private final Counter misroutes;
  private final Counter refreshes;
  private final AtomicInteger roundRobin = new AtomicInteger();
  private volatile ClientRouting routing = ClientRouting.EMPTY;

  private BackboneClient(Builder b) {
    if (b.bootstrap.isEmpty()) {
      throw new IllegalArgumentException(
          "a Backbone client needs at least one node to start from: builder().bootstrap(\"http://host:7070\")");
    }
    this.bootstrap = List.copyOf(b.bootstrap);
    this.scheme = URI.create(bootstrap.get(0)).getScheme();
    for (String node : bootstrap) {
      if (!URI.create(node).getScheme().equals(scheme)) {
        throw new IllegalArgumentException(
            "the bootstrap nodes mix http and https; a cluster serves one or the other");
      }
    }
    this.authorization = b.authToken.map(t -> "Bearer " + t);
    this.timeout = b.timeout;
    this.maxRetries = b.maxRetries;
    this.backoff = b.backoff;
    this.executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "backbone-client-http");
              t.setDaemon(true);
              return t;
            });
    HttpClient.Builder http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .executor(executor);
    b.sslContext.ifPresent(http::sslContext);
    this.http = http.build();
    this.registry = b.registry != null ? b.registry : new SimpleMeterRegistry();
    this.retries = Counter.builder("backbone.client.retries").register(registry);
    this.misroutes = Counter.builder("backbone.client.misroutes").register(registry);
    this.refreshes = Counter.builder("backbone.client.routing.refreshes").register(registry);
  }

  /** A builder; {@link Builder#bootstrap} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The registry the client's meters are in. */
  public MeterRegistry meterRegistry() {
    return registry;
  }

  /** Reads a key: current only, no position bound. */
  public KeyResult get(String store, String key) {
    return get(store, key, ReadOptions.DEFAULT);
  }

  /**
   * Reads a key from its owner.
   *
   * @return the answer; {@link KeyResult#found()} is false when the store holds no value
   * @throws BackboneClientException when the cluster refuses the read, or still cannot answer it
   *     after the retries
   */
  public KeyResult get(String store, String key, ReadOptions options) {
    Objects.requireNonNull(key, "key");
    String path = storePath(store) + "/keys/" + encode(key) + query(options, Map.of());
    return timed(
        "get",
        () -> {
          for (int attempt = 0; ; attempt++) {
            Optional<ClientRouting.Owner> owner = routing().ownerOf(store, key);
            String endpoint = owner.map(ClientRouting.Owner::endpoint).orElseGet(this::anyNode);
            Answer answer = send(endpoint, "GET", path, null, attempt);
            if (answer.retriable()) {
              continue;
            }
            if (answer.status() == 200 || isNotFound(answer)) {
              noteMisroute(owner, answer.body());
              return keyResult(answer.body());
            }
            throw answer.failure();
          }
        });
  }

  /**
   * Reads many keys, one batch per owner, in parallel on the server side; the results are in the
   * order of {@code keys}. A key that could not be read alone carries its error in {@link
   * BatchResult#error()}.
   */
  public List<BatchResult> batchGet(String store, List<String> keys, ReadOptions options) {
    Map<String, List<Integer>> byEndpoint = new LinkedHashMap<>();
    ClientRouting table = routing();
    for (int i = 0; i < keys.size(); i++) {
      String endpoint =
          table.ownerOf(store, keys.get(i)).map(ClientRouting.Owner::endpoint).orElse("");
      byEndpoint.computeIfAbsent(endpoint, e -> new ArrayList<>()).add(i);
    }
    BatchResult[] results = new BatchResult[keys.size()];
    return timed(
        "batchGet",
        () -> {
          for (Map.Entry<String, List<Integer>> group : byEndpoint.entrySet()) {
            List<String> sent = group.getValue().stream().map(keys::get).toList();
            JsonNode answer = batch(store, group.getKey(), sent, options);
            for (int j = 0; j < sent.size(); j++) {
              results[group.getValue().get(j)] = batchResult(sent.get(j), answer.get(j));
            }
          }
          return List.of(results);
        });
  }

  private JsonNode batch(String store, String endpoint, List<String> keys, ReadOptions options) {
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(Map.of("keys", keys));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    String path = storePath(store) + "/keys:batchGet" + query(options, Map.of());
    for (int attempt = 0; ; attempt++) {
      Answer answer =
          send(
              endpoint.isEmpty() || attempt > 0 ? anyNode() : endpoint,
              "POST",
              path,
              body,
              attempt);
      if (answer.retriable()) {
        continue;
      }
      if (answer.status() == 200) {
        return answer.body().path("results");
      }
      throw answer.failure();
    }
  }

  /**
   * One page of a range scan, {@code from} and {@code to} inclusive (either null for unbounded),
   * gathered from every partition by the node asked and merged in key order.
   *
   * @param cursor the previous page's cursor, or null for the first page
   */
  public ScanPage range(
      String store, String from, String to, int limit, String cursor, ReadOptions options) {
    Map<String, String> params = new LinkedHashMap<>();
    if (from != null) {
      params.put("from", from);
    }
    if (to != null) {
      params.put("to", to);
    }
    return scan("range", storePath(store) + "/range", params, limit, cursor, options);
  }

  /** One page of a prefix scan; see {@link #range}. */
  public ScanPage prefix(
      String store, String prefix, int limit, String cursor, ReadOptions options) {
    return scan(
        "prefix", storePath(store) + "/prefix/" + encode(prefix), Map.of(), limit, cursor, options);
  }

  private ScanPage scan(
      String call,
      String base,
      Map<String, String> bounds,
      int limit,
      String cursor,
      ReadOptions options) {
    Map<String, String> params = new LinkedHashMap<>(bounds);
    params.put("limit", Integer.toString(limit));
    if (cursor != null) {
      params.put("cursor", cursor);
    }
    String path = base + query(options, params);
    return timed(
        call,
        () -> {
          for (int attempt = 0; ; attempt++) {
            Answer answer = send(anyNode(), "GET", path, null, attempt);
            if (answer.retriable()) {
              continue;
            }
            if (answer.status() != 200) {
              throw answer.failure();
            }
            List<ScanPage.Item> items = new ArrayList<>();
            for (JsonNode item : answer.body().path("items")) {
              items.add(
                  new ScanPage.Item(
                      item.path("key").asText(),
                      item.get("value"),
                      item.path("partition").asInt()));
            }
            JsonNode next = answer.body().get("cursor");
            return new ScanPage(
                items,
                next == null || next.isNull() ? Optional.empty() : Optional.of(next.asText()),
                answer.body().path("position").asText());
          }
        });
  }

  /**
   * Writes a key of a store fed by a topic ({@code PUT}); see {@link #put(String, String, Object,
   * boolean)}.
   */
  public WriteResult put(String store, String key, Object value) {
    return put(store, key, value, false);
  }

  /**
   * Writes a key of a store fed by a topic: the value (anything Jackson writes as JSON) goes to
   * that topic, acknowledged by every in-sync replica. The call goes to the key's owner, so that
   * with {@code waitApplied} the read of the applied write is local there.
   *
   * <p>Retried (with backoff) when the node refused it as not written ({@code WRITE_FAILED}) or
   * could not be reached; a {@code WRITE_UNKNOWN} (the write may be in the topic) is thrown, as a
   * retriable {@link BackboneClientException}, for the caller to decide.
   *
   * @param waitApplied return only once the key's owner has applied the write, with its read
   */
  public WriteResult put(String store, String key, Object value, boolean waitApplied) {
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new IllegalArgumentException("the value is not writable as JSON: " + e, e);
    }
    return write("put", "PUT", store, key, body, waitApplied);
  }

  /** Deletes a key of a store fed by a topic (a tombstone to that topic); see {@link #put}. */
  public WriteResult delete(String store, String key, boolean waitApplied) {
    return write("delete", "DELETE", store, key, null, waitApplied);
  }

  private WriteResult write(
      String call, String method, String store, String key, byte[] body, boolean waitApplied) {
    Objects.requireNonNull(key, "key");
    String path = storePath(store) + "/keys/" + encode(key) + (waitApplied ? "?wait=true" : "");
    return timed(
        call,
        () -> {
          for (int attempt = 0; ; attempt++) {
            String endpoint =
                routing()
                    .ownerOf(store, key)
                    .map(ClientRouting.Owner::endpoint)
                    .orElseGet(this::anyNode);
            Answer answer = sendWrite(endpoint, method, path, body, attempt);
            if (answer.retriable()) {
              continue;
            }
            if (answer.status() == 200 || answer.status() == 202) {
              JsonNode json = answer.body();
              JsonNode read = json.get("read");
              return new WriteResult(
                  json.path("key").asText(),
                  json.path("topic").asText(),
                  json.path("partition").asInt(),
                  json.path("offset").asLong(),
                  json.path("position").asText(),
                  json.path("node").asText(),
                  read == null || read.isNull() ? Optional.empty() : Optional.of(keyResult(read)));
            }
            throw answer.failure();
          }
        });
  }

  /** As {@link #send}, but a write whose outcome is unknown is never sent again. */
  private Answer sendWrite(String endpoint, String method, String path, byte[] body, int attempt) {
    Answer answer = attempt(endpoint, method, path, body);
    if (answer.status() == 503
        && "WRITE_UNKNOWN".equals(answer.body().at("/error/code").asText())) {
      return answer;
    }
    if (answer.status() == 0 && !(answer.transport().getCause() instanceof ConnectException)) {
      // The request may have reached the node: it is not sent twice.
      throw answer.failure();
    }
    return retryOrReturn(answer, attempt);
  }

  /**
   * Appends a batch of events ({@code POST /v1/events}) to the application's event topic, or to
   * {@code topic} when it has several (null for the only one).
   *
   * <p>Sent once, never retried: an event's outcome may be unknown, and an event sent twice may be
   * counted twice. Read each event's result: {@link EventsResult.Event#written()}, or its error.
   *
   * @throws BackboneClientException when the call as a whole was refused (no event was appended) or
   *     no answer came (then any event may have been appended)
   */
  public EventsResult appendEvents(String topic, List<?> events) {
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(Map.of("events", events));
    } catch (IOException e) {
      throw new IllegalArgumentException("the events are not writable as JSON: " + e, e);
    }
    String path = "/v1/events" + (topic == null ? "" : "?topic=" + encode(topic));
    return timed(
        "appendEvents",
        () -> {
          Answer answer = exchange(anyNode(), "POST", path, body);
          if (answer.status() != 200) {
            throw answer.failure();
          }
          JsonNode json = answer.body();
          List<EventsResult.Event> results = new ArrayList<>();
          for (JsonNode r : json.path("results")) {
            results.add(
                new EventsResult.Event(
                    r.path("index").asInt(),
                    r.hasNonNull("key") ? Optional.of(r.get("key").asText()) : Optional.empty(),
                    r.hasNonNull("partition")
                        ? OptionalInt.of(r.get("partition").asInt())
                        : OptionalInt.empty(),
                    r.hasNonNull("offset")
                        ? OptionalLong.of(r.get("offset").asLong())
                        : OptionalLong.empty(),
                    r.has("error") ? Optional.of(r.at("/error/code").asText()) : Optional.empty(),
                    r.has("error")
                        ? Optional.of(r.at("/error/message").asText())
                        : Optional.empty()));
          }
          return new EventsResult(
              json.path("node").asText(),
              json.path("topic").asText(),
              json.path("written").asInt(),
              json.path("failed").asInt(),
              List.copyOf(results));
        });
  }

  /** Fetches the routing table again from any node it knows. */
  public synchronized void refreshRouting() {
    List<String> candidates = new ArrayList<>(routing.endpoints());
    candidates.addAll(bootstrap);
    BackboneClientException last = null;
    for (String endpoint : candidates) {
      try {
        Answer stores = exchange(endpoint, "GET", "/v1/stores", null);
        Answer tables = exchange(endpoint, "GET", "/v1/routing", null);
        if (stores.status() == 200 && tables.status() == 200) {
          routing = ClientRouting.parse(stores.body(), tables.body(), scheme);
          refreshes.increment();
          return;
        }
        last = (stores.status() != 200 ? stores : tables).failure();
      } catch (BackboneClientException e) {
        last = e;
      }
    }
    throw last != null
        ? last
        : new BackboneClientException("UNREACHABLE", 0, "no node answered", null);
  }

  private ClientRouting routing() {
    ClientRouting current = routing;
    if (current.endpoints().isEmpty()) {
      try {
        refreshRouting();
      } catch (BackboneClientException e) {
        // Go on without a table: calls then go to the bootstrap nodes, which forward.
      }
      current = routing;
    }
    return current;
  }

  private String anyNode() {
    List<String> known = routing().endpoints();
    List<String> nodes = known.isEmpty() ? bootstrap : known;
    return nodes.get(Math.floorMod(roundRobin.getAndIncrement(), nodes.size()));
  }

  private void noteMisroute(Optional<ClientRouting.Owner> owner, JsonNode body) {
    if (owner.isPresent() && !owner.get().nodeId().equals(body.path("node").asText())) {
      misroutes.increment();
      routing = new ClientRouting(routing.stores(), Map.of(), routing.endpoints());
    }
  }

  /**
   * One attempt; a retriable outcome (503, no answer) backs off first and refreshes the table, and
   * after the last retry it is thrown.
   */
  private Answer send(String endpoint, String method, String path, byte[] body, int attempt) {
    return retryOrReturn(attempt(endpoint, method, path, body), attempt);
  }

  /** One exchange; a node that does not answer is an answer with status 0. */
  private Answer attempt(String endpoint, String method, String path, byte[] body) {
    try {
      return exchange(endpoint, method, path, body);
    } catch (BackboneClientException unreachable) {
      return new Answer(0, null, unreachable);
    }
  }

  /**
   * A retriable outcome (503, no answer) of an attempt backs off and refreshes the table, and after
   * the last retry it is thrown; any other answer is returned.
   */
  private Answer retryOrReturn(Answer answer, int attempt) {
    if (answer.status() != 503 && answer.status() != 0) {
      return answer;
    }
    if (attempt >= maxRetries) {
      throw answer.failure();
    }
    retries.increment();
    pause(attempt);
    try {
      refreshRouting();
    } catch (BackboneClientException e) {
      // The next attempt goes to another node.
    }
    return Answer.RETRY;
  }

  private Answer exchange(String endpoint, String method, String path, byte[] body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(endpoint + path))
            .timeout(timeout)
            .header("Accept", "application/json");
    authorization.ifPresent(a -> request.header("Authorization", a));
    if (body != null) {
      request.header("Content-Type", "application/json");
      request.method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<byte[]> response =
          http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      JsonNode json;
      try {
        json = JSON.readTree(response.body());
      } catch (IOException e) {
        json = JSON.createObjectNode();
      }
      return new Answer(response.statusCode(), json, null);
    } catch (IOException e) {
      throw new BackboneClientException(
          "UNREACHABLE", 0, "no answer from " + endpoint + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackboneClientException("INTERRUPTED", 0, "interrupted calling " + endpoint, e);
    }
  }

  private void pause(int attempt) {
    long cap = backoff.toMillis() << Math.min(attempt, 10);
    long millis = Math.min(cap, 2_000) / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1);
    try {
      Thread.sleep(Math.min(millis, 2_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackboneClientException("INTERRUPTED", 0, "interrupted while backing off", e);
    }
  }

  private <T> T timed(String call, java.util.function.Supplier<T> body) {
    Timer.Sample sample = Timer.start(registry);
    String outcome = "error";
    try {
      T result = body.get();
      outcome = "ok";
      return result;
    } finally {
      sample.stop(
          Timer.builder("backbone.client.calls")
              .tag("call", call)
              .tag("outcome", outcome)
              .register(registry));
    }
  }

  private static boolean isNotFound(Answer answer) {
    return answer.status() == 404
        && "KEY_NOT_FOUND".equals(answer.body().at("/error/code").asText());
  }

  private static KeyResult keyResult(JsonNode body) {
    JsonNode value = body.get("value");
    return new KeyResult(
        body.path("key").asText(),
        value == null || value.isNull() ? Optional.empty() : Optional.of(value),
        body.path("node").asText(),
        body.path("partition").asInt(),
        body.path("position").asText(),
        body.has("stale") ? Optional.of(body.get("stale").asBoolean()) : Optional.empty(),
        body.has("lag") ? Optional.of(body.get("lag").asLong()) : Optional.empty());
  }

  private static BatchResult batchResult(String key, JsonNode item) {
    if (item == null) {
      return new BatchResult(key, Optional.empty(), Optional.of("INTERNAL"), 500);
    }
    String code = item.at("/error/code").asText("");
    if (code.isEmpty() || code.equals("KEY_NOT_FOUND")) {
      return new BatchResult(key, Optional.of(keyResult(item)), Optional.empty(), 200);
    }
    return new BatchResult(key, Optional.empty(), Optional.of(code), item.path("status").asInt());
  }

  private static String storePath(String store) {
    return "/v1/stores/" + encode(Objects.requireNonNull(store, "store"));
  }

  private static String query(ReadOptions options, Map<String, String> params) {
    List<String> parts = new ArrayList<>();
    params.forEach((k, v) -> parts.add(k + "=" + encode(v)));
    if (options.staleOk()) {
      parts.add("staleOk=true");
    }
    options.minPosition().ifPresent(p -> parts.add("minPosition=" + encode(p)));
    return parts.isEmpty() ? "" : "?" + String.join("&", parts);
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  /**
   * One key of a batch get.
   *
   * @param key the key
   * @param result its answer ({@link KeyResult#found()} false for a key without a value); empty
   *     when it could not be read
   * @param error the API error code when it could not be read (e.g. {@code REBALANCING})
   * @param status the status a single read would have had
   */
  public record BatchResult(
      String key, Optional<KeyResult> result, Optional<String> error, int status) {}

  private record Answer(int status, JsonNode body, BackboneClientException transport) {
    static final Answer RETRY = new Answer(-1, null, null);

    boolean retriable() {
      return status == -1;
    }

    BackboneClientException failure() {
      if (transport != null) {
        return transport;
      }
      JsonNode error = body == null ? null : body.path("error");
      String code = error == null ? "HTTP_" + status : error.path("code").asText("HTTP_" + status);
      String message =
          error == null ? "HTTP " + status : error.path("message").asText("HTTP " + status);
      return new BackboneClientException(code, status, message, null);
    }
  }

  /** Settings of a {@link BackboneClient}. */
  public static final class Builder {
    private final List<String> bootstrap = new ArrayList<>();
    private Optional<String> authToken = Optional.empty();
    private Optional<SSLContext> sslContext = Optional.empty();
    private Duration timeout = Duration.ofSeconds(5);
    private int maxRetries = 8;
    private Duration backoff = Duration.ofMillis(50);
    private MeterRegistry registry;

    private Builder() {}

    /** Nodes to fetch the routing table from first, e.g. {@code http://h:7070}. */
    public Builder bootstrap(String... endpoints) {
      for (String e : endpoints) {
        URI uri = URI.create(e);
        if (uri.getScheme() == null
            || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
            || uri.getHost() == null
            || uri.getPort() < 0) {
          throw new IllegalArgumentException(
              "a bootstrap node is http://host:port or https://host:port, not '" + e + "'");
        }
        bootstrap.add(e.endsWith("/") ? e.substring(0, e.length() - 1) : e);
      }
      return this;
    }

    /** The cluster's auth token, sent as {@code Authorization: Bearer}. */
    public Builder authToken(String token) {
      this.authToken = Optional.of(Objects.requireNonNull(token, "token"));
      return this;
    }

    /**
     * The TLS context for {@code https://} nodes, e.g. one that trusts the cluster's certificate
     * authority (default: the JVM's, {@code SSLContext.getDefault()}).
     */
    public Builder sslContext(SSLContext context) {
      this.sslContext = Optional.of(Objects.requireNonNull(context, "context"));
      return this;
    }

    /** Deadline of one attempt (default 5 s). */
    public Builder timeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive, not " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /** Retries of a retriable failure (default 8), with backoff from {@code backoff} up to 2 s. */
    public Builder retries(int maxRetries, Duration backoff) {
      if (maxRetries < 0 || backoff.isNegative()) {
        throw new IllegalArgumentException("retries must be >= 0 and backoff not negative");
      }
      this.maxRetries = maxRetries;
      this.backoff = backoff;
      return this;
    }

    /** Where the client's meters go (default: a registry of its own). */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The client. */
    public BackboneClient build() {
      return new BackboneClient(this);
    }
  }
}
