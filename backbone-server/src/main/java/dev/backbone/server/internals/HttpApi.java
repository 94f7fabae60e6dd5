package dev.backbone.server.internals;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.bootstrap.SnapshotLender;
import dev.backbone.config.BackboneConfig;
import dev.backbone.errors.BackboneException;
import dev.backbone.server.EventTopic;
import dev.backbone.server.QueryableStore;
import dev.backbone.server.TopicWrites;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.state.HostInfo;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP server (Javalin on Jetty): the v1 query API, {@code /v1/cluster}, {@code
 * /v1/routing}, {@code /metrics}, the health checks, and the internal snapshot transfer peers use
 * for cold bootstrap ({@link SnapshotEndpoints}).
 *
 * <p>Every answer, including the ones Jetty produces before a request reaches a route (a malformed
 * URI, an over-long request line), is JSON in the one error shape, and every error goes through
 * {@link HttpErrors}. No handler blocks without a deadline: local reads are in-memory/RocksDB
 * lookups, and forwarding is bounded by {@code backbone.http.forward.timeout.ms}.
 */
public final class HttpApi implements AutoCloseable {
  /** Content type of {@code /metrics}: the Prometheus text format. */
  public static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
  private static final String JSON = "application/json";
  private static final String UNMATCHED_ROUTE = "unmatched";

  /** The buffer Javalin copies an answer through: a page, enough for a key read in one pass. */
  static final int RESPONSE_COPY_BUFFER_BYTES = 4096;

  /** Headers of a binary read ({@code Accept: application/octet-stream}): its metadata. */
  static final String POSITION_HEADER = "X-Backbone-Position";

  static final String PARTITION_HEADER = "X-Backbone-Partition";
  static final String GENERATION_HEADER = "X-Backbone-Generation";

  /** Each keyed state stage's serving generation, and a rescale's step while one runs. */
  static final String STATE_GENERATION_HEADER = "X-Backbone-State-Generation";

  static final String STALE_HEADER = "X-Backbone-Stale";
  static final String LAG_HEADER = "X-Backbone-Lag";

  /**
   * The OpenAPI description of the API, a resource of this module (a copy is docs/openapi.json).
   */
  static final String OPENAPI_RESOURCE = "/dev/backbone/server/openapi.json";

  private static final Supplier<byte[]> OPENAPI =
      () -> {
        try (InputStream in = HttpApi.class.getResourceAsStream(OPENAPI_RESOURCE)) {
          if (in == null) {
            throw new IllegalStateException(OPENAPI_RESOURCE + " is missing from the jar");
          }
          return in.readAllBytes();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };

  private final LocalNode node;
  private final BackboneConfig config;
  private final PrometheusMeterRegistry registry;
  private final NodeMetrics metrics;
  private final Map<String, QueryableStore<?, ?>> stores;
  private final HttpErrors errors;
  private final ObjectMapper mapper = new ObjectMapper();

  private final PeerForwarder forwarder;
  private final KeyReadRouter router;
  private final ScanRouter scans;
  private final BatchReader batches;
  private final TopicWriter writer;
  private final EventAppender events;
  private final ApiRequests requests;
  private final SnapshotEndpoints snapshots;
  private final DirectCallsHandler direct;
  private final Javalin app;

  /**
   * Builds the server; nothing listens before {@link #start()}.
   *
   * @param node the node the server runs in
   * @param config the node's Backbone settings
   * @param registry the registry {@code /metrics} scrapes
   * @param metrics the node's meters (the request timer)
   * @param stores the stores the API serves
   * @param lender the snapshots this node lends to its peers ({@code /internal/v1/snapshots})
   * @param producerConfigs the Kafka producer settings of the node, for writes (read on the first)
   * @param eventTopics the topics {@code POST /v1/events} appends to
   */
  public HttpApi(
      LocalNode node,
      BackboneConfig config,
      PrometheusMeterRegistry registry,
      NodeMetrics metrics,
      List<QueryableStore<?, ?>> stores,
      SnapshotLender lender,
      Supplier<Map<String, Object>> producerConfigs,
      List<EventTopic> eventTopics) {
    this.node = node;
    this.snapshots = new SnapshotEndpoints(lender, config.clusterSecret());
    this.config = config;
    this.registry = registry;
    this.metrics = metrics;
    Map<String, QueryableStore<?, ?>> byName = new TreeMap<>();
    stores.forEach(s -> byName.put(s.storeName(), s));
    this.stores = Collections.unmodifiableMap(byName);
    this.errors = new HttpErrors(config.retryAfterSeconds());
    this.requests = new ApiRequests(config, this.stores, errors);
    config.httpTls().ifPresent(HttpTlsSetup::check);
    this.forwarder =
        new PeerForwarder(
            node.nodeId(),
            Duration.ofMillis(config.httpForwardTimeoutMs()),
            config.httpAuthToken(),
            config.httpTls());
    RoutingTableOwnerLookup owners = new RoutingTableOwnerLookup(node);
    ForwardCoalescer coalescer =
        new ForwardCoalescer(
            forwarder,
            mapper,
            config.httpMaxBatchKeys(),
            config.httpMaxBodyBytes(),
            config.retryAfterSeconds());
    metrics.bindForwards(coalescer);
    this.router = new KeyReadRouter(node, owners, forwarder, coalescer, this::endpoint);
    this.scans = new ScanRouter(node, owners, router, forwarder, mapper);
    this.batches = new BatchReader(node, owners, router, forwarder, mapper, errors);
    this.writer =
        new TopicWriter(
            node.nodeId(), producerConfigs, Duration.ofMillis(config.httpForwardTimeoutMs()));
    this.events =
        new EventAppender(
            node.nodeId(),
            eventTopics,
            writer,
            mapper,
            errors,
            config.httpMaxBatchEvents(),
            config.httpMaxKeyBytes());
    this.direct =
        new DirectCallsHandler(
            node.nodeId(),
            node::generationHeader,
            requests,
            router,
            metrics,
            mapper,
            config.httpMaxKeyBytes());
    this.app = createApp();
  }

  private Javalin createApp() {
    Javalin javalin =
        Javalin.create(
            c -> {
              c.showJavalinBanner = false;
              // Javalin copies every answer into the response through a buffer of this size,
              // allocated per response; unset it takes Jetty's output buffer size (32 KB), which
              // made 36 % of all bytes a node allocated under a GET load (async-profiler alloc).
              // Jetty's own output buffer is not changed by this.
              c.http.responseBufferSize = RESPONSE_COPY_BUFFER_BYTES;
              c.http.prefer405over404 = true;
              c.jsonMapper(new JavalinJackson(mapper, false));
              c.http.maxRequestSize = config.httpMaxBodyBytes();
              c.jetty.modifyServer(
                  server -> {
                    server.setErrorHandler(new JsonErrorHandler());
                    // Javalin puts its own handler inside this one: key GETs and liveness never
                    // reach it.
                    server.setHandler(direct);
                  });
              config
                  .httpTls()
                  .ifPresent(
                      tls ->
                          c.jetty.addConnector(
                              (server, http) ->
                                  HttpTlsSetup.connector(
                                      server, http, tls, config.httpHost(), config.httpPort())));
              c.requestLogger.http(
                  (ctx, ms) ->
                      metrics.recordRequest(
                          ctx.method().name(),
                          routeOf(ctx),
                          ctx.res().getStatus(),
                          (long) (ms * 1_000_000L)));
            });
    javalin.before(ctx -> ctx.header(PeerForwarder.SERVED_BY, node.nodeId()));
    javalin.before(
        ctx -> node.generationHeader().ifPresent(h -> ctx.header(STATE_GENERATION_HEADER, h)));
    javalin.before(ctx -> requests.authorize(ctx.path(), ctx.header("Authorization")));
    javalin.before(ctx -> requests.checkBodySize(ctx.req().getContentLengthLong()));
    javalin.get("/v1/stores", this::listStores);
    javalin.get("/v1/stores/{store}/keys", ctx -> emptyKey(ctx));
    javalin.put("/v1/stores/{store}/keys/{key}", ctx -> write(ctx, true));
    javalin.delete("/v1/stores/{store}/keys/{key}", ctx -> write(ctx, false));
    javalin.post("/v1/stores/{store}/keys:batchGet", this::batchGet);
    javalin.post("/v1/events", this::appendEvents);
    javalin.get("/v1/stores/{store}/range", this::range);
    javalin.get("/v1/stores/{store}/prefix", ctx -> emptyKey(ctx));
    javalin.get("/v1/stores/{store}/prefix/{prefix}", this::prefix);
    javalin.get("/v1/cluster", ctx -> ctx.json(ClusterView.of(node, booleanParam(ctx, "lags"))));
    javalin.get("/v1/routing", ctx -> ctx.json(RoutingView.of(node)));
    javalin.get("/v1/openapi.json", ctx -> ctx.contentType(JSON).result(OPENAPI.get()));
    javalin.get("/metrics", this::scrape);
    javalin.get("/health/ready", this::ready);
    snapshots.register(javalin);
    if (node instanceof NodeRuntime runtime) {
      new RescaleEndpoints(runtime).register(javalin);
    }
    javalin.exception(HttpResponseException.class, this::fail);
    javalin.exception(Exception.class, this::fail);
    return javalin;
  }

  /**
   * Binds {@code backbone.http.host}:{@code backbone.http.port} and starts serving.
   *
   * @throws dev.backbone.errors.FatalBackboneException {@code HTTP_BIND_FAILED} if the port cannot
   *     be bound
   */
  public void start() {
    try {
      app.start(config.httpHost(), config.httpPort());
    } catch (RuntimeException e) {
      throw HttpErrors.fatal(
          "HTTP_BIND_FAILED",
          "Node "
              + node.nodeId()
              + " could not serve HTTP on "
              + config.httpHost()
              + ":"
              + config.httpPort()
              + " ("
              + e.getMessage()
              + "); choose a free "
              + BackboneConfig.HTTP_PORT_CONFIG
              + " (0 picks one).");
    }
  }

  /** The method and path template of every route served, e.g. {@code GET /v1/stores}. */
  List<String> routes() {
    List<String> routes = new ArrayList<>();
    routes.addAll(DirectCallsHandler.ROUTES);
    app.unsafeConfig().pvt.internalRouter.allHttpHandlers().stream()
        .filter(e -> e.getEndpoint().getMethod().isHttpMethod())
        .map(e -> e.getEndpoint().getMethod().name() + " " + e.getEndpoint().getPath())
        .forEach(routes::add);
    return routes;
  }

  /** The port the server listens on (the chosen one if the configured port was 0). */
  public int port() {
    return app.port();
  }

  /** The endpoint other nodes reach this server at: the advertised host and the actual port. */
  public HostInfo endpoint() {
    return new HostInfo(config.httpAdvertisedHost(), port());
  }

  @Override
  public void close() {
    try {
      app.stop();
    } finally {
      try {
        forwarder.close();
      } finally {
        writer.close();
      }
    }
  }

  private void listStores(Context ctx) {
    List<StoreEntry> entries = new ArrayList<>();
    for (QueryableStore<?, ?> store : stores.values()) {
      Integer subtopology =
          node.stage(store.stageName())
              .flatMap(
                  stage -> {
                    OptionalInt id = stage.topology().subtopologyOf(store.storeName());
                    return id.isPresent() ? Optional.of(id.getAsInt()) : Optional.empty();
                  })
              .orElse(null);
      entries.add(
          new StoreEntry(
              store.storeName(),
              store.stageName(),
              node.stageState(store.stageName()),
              subtopology));
    }
    ctx.json(new StoresAnswer(node.nodeId(), entries));
  }

  private void emptyKey(Context ctx) {
    store(ctx);
    KeyCodec.decode("");
  }

  /** The failure a future completed with, without the {@code CompletionException} around it. */
  static Exception unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause instanceof Exception e ? e : new IllegalStateException(cause);
  }

  /**
   * {@code PUT} (the body is the new value) and {@code DELETE} of a key of a store fed by a topic:
   * the write goes to that topic, acknowledged by every in-sync replica, and the answer carries the
   * position token of the record. With {@code wait=true} it returns once the key's owner has
   * applied it: a read of the key with that token as {@code minPosition}, whose answer it carries.
   */
  private void write(Context ctx, boolean put) {
    writeTyped(ctx, store(ctx), put);
  }

  private <K, V> void writeTyped(Context ctx, QueryableStore<K, V> store, boolean put) {
    String keyText = KeyCodec.decode(rawKeySegment(ctx), config.httpMaxKeyBytes());
    boolean wait = booleanParam(ctx, "wait");
    TopicWrites<V> writes =
        store
            .writes()
            .orElseThrow(
                () ->
                    HttpErrors.fatal(
                        HttpErrors.NOT_WRITABLE,
                        "Store '"
                            + store.storeName()
                            + "' is not fed by a topic the API writes (the application gave it no"
                            + " TopicWrites); it is read-only here."));
    K key = KeyReadRouter.parseKey(store, keyText);
    byte[] value = put ? serializedValue(store, writes, ctx.bodyAsBytes()) : null;
    CompletableFuture<RecordMetadata> sent =
        writer.send(writes.topic(), store.keySerializer().serialize(writes.topic(), key), value);
    // No request thread waits for the broker: the answer goes out when the acknowledgement (and,
    // with wait=true, the owner's read) arrives.
    ctx.future(
        () ->
            sent.thenCompose(written -> afterWrite(ctx, store, keyText, put, wait, written))
                .handle(
                    (done, failure) -> {
                      if (failure != null) {
                        fail(unwrap(failure), ctx);
                      }
                      return null;
                    }));
  }

  /** Answers a write the broker acknowledged; with {@code wait}, once the owner has applied it. */
  private CompletableFuture<Void> afterWrite(
      Context ctx,
      QueryableStore<?, ?> store,
      String keyText,
      boolean put,
      boolean wait,
      RecordMetadata written) {
    Position position =
        Position.emptyPosition()
            .withComponent(written.topic(), written.partition(), written.offset());
    WriteAnswer answer =
        new WriteAnswer(
            store.storeName(),
            keyText,
            put ? "PUT" : "DELETE",
            written.topic(),
            written.partition(),
            written.offset(),
            PositionTokens.encode(position),
            node.nodeId(),
            wait,
            null);
    if (!wait) {
      ctx.status(202);
      ctx.json(answer);
      return CompletableFuture.completedFuture(null);
    }
    KeyReadRouter.KeyRead read;
    try {
      read =
          router.read(
              store, keyText, KeyReadRouter.ReadRequest.fromClient(false, Optional.of(position)));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(notYetApplied(answer, e));
    }
    if (read instanceof KeyReadRouter.KeyRead.Local local) {
      ctx.json(answer.withRead(local.answer()));
      return CompletableFuture.completedFuture(null);
    }
    return ((KeyReadRouter.KeyRead.Relayed) read)
        .answer()
        .handle(
            (owner, failure) -> {
              if (failure != null) {
                throw notYetApplied(answer, unwrap(failure));
              }
              JsonNode body;
              try {
                body = mapper.readTree(owner.body());
              } catch (IOException e) {
                throw notYetApplied(answer, e);
              }
              if (owner.status() != 200 && owner.status() != 404) {
                throw notYetApplied(answer, PeerErrors.relayed(owner.status(), body));
              }
              ctx.json(answer.withRead(body));
              return null;
            });
  }

  /**
   * {@code POST /v1/events}: each event of the batch produced to the event topic, answered with one
   * result per event once all are acknowledged (see {@link EventAppender}).
   */
  private void appendEvents(Context ctx) {
    Optional<String> topic = Optional.ofNullable(ctx.queryParam("topic")).filter(s -> !s.isEmpty());
    CompletableFuture<EventAppender.EventsAnswer> appended =
        events.append(topic, ctx.bodyAsBytes());
    ctx.future(
        () ->
            appended.handle(
                (answer, failure) -> {
                  if (failure != null) {
                    fail(unwrap(failure), ctx);
                  } else {
                    ctx.json(answer);
                  }
                  return null;
                }));
  }

  private <K, V> byte[] serializedValue(
      QueryableStore<K, V> store, TopicWrites<V> writes, byte[] body) {
    V value;
    try {
      JsonNode json = mapper.readTree(body);
      if (json == null || json.isMissingNode()) {
        throw new IllegalArgumentException("the body is empty; PUT the new value as JSON");
      }
      value = writes.valueParser().apply(json);
      if (value == null) {
        throw new IllegalArgumentException("the value parser returned null; use DELETE to delete");
      }
    } catch (IOException e) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_VALUE,
          "The body of a PUT to store '"
              + store.storeName()
              + "' is the value as JSON; it is not JSON.");
    } catch (IllegalArgumentException e) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_VALUE,
          "Not a valid value of store '" + store.storeName() + "': " + e.getMessage());
    }
    return writes.valueSerializer().serialize(writes.topic(), value);
  }

  private static RuntimeException notYetApplied(WriteAnswer written, Throwable why) {
    String message =
        "The write is in topic '"
            + written.topic()
            + "' (partition "
            + written.partition()
            + ", offset "
            + written.offset()
            + ", position token "
            + written.position()
            + ") but was not seen applied: "
            + why.getMessage()
            + " Read the key with minPosition="
            + written.position()
            + " to see it once applied; do not write it again.";
    if (why instanceof BackboneException e) {
      return e.isRetriable()
          ? HttpErrors.retriable(e.code(), message)
          : HttpErrors.fatal(e.code(), message);
    }
    return new IllegalStateException(message, why);
  }

  /** {@code POST /v1/stores/{store}/keys:batchGet}: every key read as a single read would be. */
  private void batchGet(Context ctx) {
    QueryableStore<?, ?> store = store(ctx);
    List<String> keys = batchKeys(ctx);
    KeyReadRouter.ReadRequest request = readRequest(ctx);
    CompletableFuture<List<Object>> results = batches.read(store, keys, request);
    ctx.future(
        () ->
            results.handle(
                (items, failure) -> {
                  if (failure != null) {
                    fail(unwrap(failure), ctx);
                  } else {
                    ctx.json(new BatchAnswer(store.storeName(), node.nodeId(), items));
                  }
                  return null;
                }));
  }

  private List<String> batchKeys(Context ctx) {
    JsonNode body;
    try {
      body = mapper.readTree(ctx.bodyAsBytes());
    } catch (IOException e) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_REQUEST,
          "The body of a batch get is JSON {\"keys\": [\"k1\", \"k2\", ...]}; it is not JSON.");
    }
    JsonNode keys = body == null ? null : body.get("keys");
    if (keys == null || !keys.isArray()) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_REQUEST,
          "The body of a batch get is JSON {\"keys\": [\"k1\", \"k2\", ...]}; it has no"
              + " 'keys' array.");
    }
    if (keys.size() > config.httpMaxBatchKeys()) {
      throw HttpErrors.fatal(
          HttpErrors.LIMIT_EXCEEDED,
          "A batch get names at most "
              + config.httpMaxBatchKeys()
              + " keys ("
              + BackboneConfig.HTTP_MAX_BATCH_KEYS_CONFIG
              + "); this one names "
              + keys.size()
              + ".");
    }
    List<String> out = new ArrayList<>(keys.size());
    for (JsonNode key : keys) {
      if (!key.isTextual()) {
        throw HttpErrors.fatal(
            HttpErrors.BAD_REQUEST, "Every key of a batch get is a JSON string, not " + key + ".");
      }
      out.add(KeyCodec.checkLength(key.asText(), config.httpMaxKeyBytes()));
    }
    return out;
  }

  private void range(Context ctx) {
    QueryableStore<?, ?> store = store(ctx);
    scan(
        ctx,
        store,
        new ScanRouter.ScanSpec(
            Optional.ofNullable(ctx.queryParam("from")).filter(s -> !s.isEmpty()),
            Optional.ofNullable(ctx.queryParam("to")).filter(s -> !s.isEmpty()),
            Optional.empty()));
  }

  private void prefix(Context ctx) {
    QueryableStore<?, ?> store = store(ctx);
    String prefix = KeyCodec.decode(rawKeySegment(ctx), config.httpMaxKeyBytes());
    scan(
        ctx,
        store,
        new ScanRouter.ScanSpec(Optional.empty(), Optional.empty(), Optional.of(prefix)));
  }

  private void scan(Context ctx, QueryableStore<?, ?> store, ScanRouter.ScanSpec spec) {
    int limit = limitParam(ctx);
    Optional<String> cursor =
        Optional.ofNullable(ctx.queryParam("cursor")).filter(s -> !s.isEmpty());
    ScanRouter.ScanRequest request =
        new ScanRouter.ScanRequest(spec, limit, cursor, readRequest(ctx));
    String partition = ctx.queryParam("partition");
    CompletableFuture<?> page =
        partition == null
            ? scans.scan(store, request)
            : scans.scanPartition(
                store, intParam("partition", partition, 0, Integer.MAX_VALUE), request);
    ctx.future(
        () ->
            page.handle(
                (answer, failure) -> {
                  if (failure != null) {
                    fail(unwrap(failure), ctx);
                  } else {
                    ctx.json(answer);
                  }
                  return null;
                }));
  }

  private int limitParam(Context ctx) {
    String value = ctx.queryParam("limit");
    if (value == null || value.isEmpty()) {
      return Math.min(DEFAULT_SCAN_LIMIT, config.httpMaxScanLimit());
    }
    int limit = intParam("limit", value, 1, Integer.MAX_VALUE);
    if (limit > config.httpMaxScanLimit()) {
      throw HttpErrors.fatal(
          HttpErrors.LIMIT_EXCEEDED,
          "limit is at most "
              + config.httpMaxScanLimit()
              + " ("
              + BackboneConfig.HTTP_MAX_SCAN_LIMIT_CONFIG
              + "), not "
              + limit
              + "; page through larger scans with the cursor.");
    }
    return limit;
  }

  private static int intParam(String name, String value, int min, int max) {
    try {
      int parsed = Integer.parseInt(value.trim());
      if (parsed >= min && parsed <= max) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw HttpErrors.fatal(
        HttpErrors.BAD_REQUEST,
        name
            + " is a whole number from "
            + min
            + (max == Integer.MAX_VALUE ? " up" : " to " + max)
            + ", not '"
            + KeyCodec.abbreviate(value)
            + "'.");
  }

  private static boolean booleanParam(Context ctx, String name) {
    return ApiRequests.booleanParam(name, ctx.queryParam(name));
  }

  private static KeyReadRouter.ReadRequest readRequest(Context ctx) {
    return ApiRequests.readRequest(ctx::queryParam, ctx::header);
  }

  private QueryableStore<?, ?> store(Context ctx) {
    return requests.store(ctx.pathParam("store"));
  }

  /**
   * The key exactly as it came in, still percent-encoded: the framework's decoding is lossy (see
   * {@link KeyCodec}), so the route's 6th path segment is decoded by {@link KeyCodec} instead.
   */
  private static String rawKeySegment(Context ctx) {
    String[] segments = ctx.req().getRequestURI().split("/");
    return segments.length > 5 ? segments[5] : "";
  }

  private void scrape(Context ctx) {
    ctx.contentType(PROMETHEUS_CONTENT_TYPE);
    ctx.result(registry.scrape());
  }

  private void ready(Context ctx) {
    Map<String, String> states = new LinkedHashMap<>();
    node.stageNames().forEach(name -> states.put(name, node.stageState(name)));
    boolean ready = node.isReady();
    ctx.status(ready ? 200 : 503);
    ctx.json(new Readiness(ready ? "UP" : "DOWN", node.nodeId(), states));
  }

  private void fail(Exception failure, Context ctx) {
    ApiError error = requests.failed(failure, ctx.method().name(), ctx.req().getRequestURI());
    ctx.status(error.status());
    ApiRequests.errorHeaders(error, ctx::header);
    ctx.json(error.body());
  }

  private static String routeOf(Context ctx) {
    // No endpoint matched (404/405): the route is unknown, and raw paths must not become tags.
    return ctx.handlerType() == HandlerType.BEFORE ? UNMATCHED_ROUTE : ctx.endpointHandlerPath();
  }

  private byte[] json(ApiError error) {
    try {
      return mapper.writeValueAsBytes(error.body());
    } catch (JsonProcessingException e) {
      return ("{\"error\":{\"code\":\"" + error.code() + "\",\"message\":\"\"}}")
          .getBytes(StandardCharsets.UTF_8);
    }
  }

  /** Jetty's answers for requests it refuses before routing, in the API's JSON error shape. */
  private final class JsonErrorHandler extends ErrorHandler {
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
      ApiError error = errors.fromFrameworkStatus(status, reason);
      fields.put(HttpHeader.CONTENT_TYPE, JSON);
      error
          .retryAfterSeconds()
          .ifPresent(s -> fields.put(HttpHeader.RETRY_AFTER, Integer.toString(s)));
      return ByteBuffer.wrap(json(error));
    }

    @Override
    protected void generateAcceptableResponse(
        Request baseRequest,
        HttpServletRequest request,
        HttpServletResponse response,
        int code,
        String message)
        throws IOException {
      ApiError error = errors.fromFrameworkStatus(code, message);
      baseRequest.setHandled(true);
      response.setContentType(JSON);
      error
          .retryAfterSeconds()
          .ifPresent(s -> response.setHeader("Retry-After", Integer.toString(s)));
      response.getOutputStream().write(json(error));
    }
  }

  /**
   * The answer of a write.
   *
   * @param store the store
   * @param key the key
   * @param op {@code PUT} or {@code DELETE}
   * @param topic the topic written
   * @param partition its partition
   * @param offset the record's offset
   * @param position the position token of the write: a read with it as {@code minPosition} sees the
   *     write (or something newer)
   * @param node the node that wrote it
   * @param waited whether the call waited for the owner to apply it
   * @param read with {@code wait=true}: the owner's read of the key at that position
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record WriteAnswer(
      String store,
      String key,
      String op,
      String topic,
      int partition,
      long offset,
      String position,
      String node,
      boolean waited,
      Object read) {
    WriteAnswer withRead(Object answer) {
      return new WriteAnswer(
          store, key, op, topic, partition, offset, position, node, waited, answer);
    }
  }

  /** Keys per scan page when the call names no {@code limit}. */
  static final int DEFAULT_SCAN_LIMIT = 100;

  /**
   * {@code POST /v1/stores/{store}/keys:batchGet}.
   *
   * @param store the store
   * @param node the node that gathered the answers
   * @param results one per key, in the order asked: the key read's answer (value, or {@code
   *     KEY_NOT_FOUND}), or the error that kept it from being read
   */
  record BatchAnswer(String store, String node, List<Object> results) {}

  /**
   * {@code GET /v1/stores}.
   *
   * @param node this node
   * @param stores the stores the API serves
   */
  record StoresAnswer(String node, List<StoreEntry> stores) {}

  /**
   * One store.
   *
   * @param name store name
   * @param stage the stage that holds it
   * @param state that stage's state
   * @param subtopology the subtopology of the stage's topology that holds the store, whose
   *     partition count in {@code /v1/routing} is the store's; absent before the stage started
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record StoreEntry(String name, String stage, String state, Integer subtopology) {}

  /**
   * {@code GET /health/ready}.
   *
   * @param status {@code UP} or {@code DOWN}
   * @param node this node
   * @param stages each stage's state
   */
  record Readiness(String status, String node, Map<String, String> stages) {}
}
