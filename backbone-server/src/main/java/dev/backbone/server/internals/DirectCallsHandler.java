package dev.backbone.server.internals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.server.QueryableStore;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.HandlerWrapper;
import org.eclipse.jetty.util.URIUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's hottest calls, served on Jetty directly, in front of Javalin: {@code GET
 * /v1/stores/{store}/keys/{key}} and {@code GET /health/live} (the check every load balancer
 * repeats, and the floor {@code bench query} measures the key read against, so both go through the
 * same stack). Every other call passes through to Javalin untouched.
 *
 * <p><b>Why.</b> A CPU profile of a node under a GET load put two thirds of its request threads'
 * time in the HTTP stack, and Javalin's share of it (matching the path against every route's
 * pattern, building its context, running the before/after chains, copying the answer through its
 * own buffer) made a key read cost about 1.4 times what it costs on Jetty alone: same demo, same
 * minute, 29,700 against 41,000 GET/s at the owner (docs/benchmarks.md). These calls need none of
 * those features.
 *
 * <p><b>What must hold.</b> A call answers exactly as the Javalin route did: the same checks in the
 * same order (serving node header, bearer token, body limit, store, key, flags), through the same
 * code ({@link ApiRequests}, {@link KeyReadRouter}), the same JSON through the same mapper, the
 * same error answers, the same request metric. A read a peer must serve is relayed without a thread
 * waiting for it: the request is suspended ({@code startAsync}) until the forward completes, which
 * {@code backbone.http.forward.timeout.ms} bounds. Only paths of exactly these shapes are taken
 * (for a key: a store segment, {@code keys}, one non-empty key segment, optionally a trailing
 * slash, as Javalin matched them); anything else, including an empty key, is Javalin's.
 */
final class DirectCallsHandler extends HandlerWrapper {
  /** The key route, as the request metric and the route list name it. */
  static final String KEY_ROUTE = "/v1/stores/{store}/keys/{key}";

  /** The liveness check. */
  static final String LIVE_ROUTE = "/health/live";

  /** The routes this handler serves, as {@code HttpApi#routes()} lists them. */
  static final List<String> ROUTES = List.of("GET " + KEY_ROUTE, "GET " + LIVE_ROUTE);

  private static final Logger log = LoggerFactory.getLogger(DirectCallsHandler.class);
  private static final String PREFIX = "/v1/stores/";
  private static final String KEYS = "/keys/";
  private static final String JSON = "application/json";
  private static final byte[] LIVE = "{\"status\":\"UP\"}".getBytes(StandardCharsets.UTF_8);

  private final String nodeId;
  private final ApiRequests requests;
  private final KeyReadRouter router;
  private final NodeMetrics metrics;
  private final ObjectMapper mapper;
  private final int maxKeyBytes;
  private final java.util.function.Supplier<java.util.Optional<String>> generationHeader;

  DirectCallsHandler(
      String nodeId,
      java.util.function.Supplier<java.util.Optional<String>> generationHeader,
      ApiRequests requests,
      KeyReadRouter router,
      NodeMetrics metrics,
      ObjectMapper mapper,
      int maxKeyBytes) {
    this.nodeId = nodeId;
    this.generationHeader = generationHeader;
    this.requests = requests;
    this.router = router;
    this.metrics = metrics;
    this.mapper = mapper;
    this.maxKeyBytes = maxKeyBytes;
  }

  @Override
  public void handle(
      String target, Request base, HttpServletRequest request, HttpServletResponse response)
      throws IOException, ServletException {
    String uri = request.getRequestURI();
    if (LIVE_ROUTE.equals(uri)) {
      base.setHandled(true);
      long started = System.nanoTime();
      response.setHeader(PeerForwarder.SERVED_BY, nodeId);
      if ("GET".equals(request.getMethod())) {
        response.setStatus(200);
        write(response, JSON, LIVE);
      } else {
        writeError(response, requests.frameworkStatus(405, "Method Not Allowed"));
      }
      record(request.getMethod(), response, LIVE_ROUTE, started);
      return;
    }
    int keyStart = keyStart(request.getMethod(), uri);
    if (keyStart < 0) {
      super.handle(target, base, request, response);
      return;
    }
    base.setHandled(true);
    long started = System.nanoTime();
    response.setHeader(PeerForwarder.SERVED_BY, nodeId);
    generationHeader.get().ifPresent(h -> response.setHeader(HttpApi.STATE_GENERATION_HEADER, h));
    KeyReadRouter.KeyRead read;
    boolean binary;
    try {
      requests.authorize(uri, request.getHeader("Authorization"));
      requests.checkBodySize(request.getContentLengthLong());
      QueryableStore<?, ?> store =
          requests.store(
              URIUtil.decodePath(uri.substring(PREFIX.length(), keyStart - KEYS.length())));
      String key = KeyCodec.decode(rawKey(uri, keyStart), maxKeyBytes);
      binary = ApiRequests.wantsBytes(request.getHeader("Accept"));
      if (binary && store.toBytes().isEmpty()) {
        throw HttpErrors.fatal(
            HttpErrors.NOT_ACCEPTABLE,
            "Store '"
                + store.storeName()
                + "' has no binary form of its values (the application gave it no"
                + " withBinaryValues); ask for application/json.");
      }
      // Query parameters only: Jetty reads a form body for POST and PUT alone.
      KeyReadRouter.ReadRequest flags =
          ApiRequests.readRequest(request::getParameter, request::getHeader);
      read = binary ? router.readBytes(store, key, flags) : router.read(store, key, flags);
    } catch (Exception e) {
      fail(e, request, response);
      record("GET", response, KEY_ROUTE, started);
      return;
    }
    if (read instanceof KeyReadRouter.KeyRead.Relayed relayed) {
      relay(request, response, relayed.answer(), started);
      return;
    }
    try {
      answer(response, ((KeyReadRouter.KeyRead.Local) read), binary);
    } catch (RuntimeException e) {
      fail(e, request, response);
    } finally {
      record("GET", response, KEY_ROUTE, started);
    }
  }

  /**
   * Where the key segment of a key GET starts in its path, or -1 if the call is not one: a {@code
   * GET} of {@code /v1/stores/<store>/keys/<key>}, the store and key non-empty, the key one segment
   * (a trailing slash allowed).
   */
  static int keyStart(String method, String uri) {
    if (!"GET".equals(method) || !uri.startsWith(PREFIX)) {
      return -1;
    }
    int storeEnd = uri.indexOf('/', PREFIX.length());
    if (storeEnd <= PREFIX.length() || !uri.startsWith(KEYS, storeEnd)) {
      return -1;
    }
    int keyStart = storeEnd + KEYS.length();
    int slash = uri.indexOf('/', keyStart);
    boolean oneSegment = slash < 0 || slash == uri.length() - 1;
    return oneSegment && slash != keyStart && keyStart < uri.length() ? keyStart : -1;
  }

  /** The key exactly as it came in, still percent-encoded; {@link KeyCodec} decodes it. */
  private static String rawKey(String uri, int keyStart) {
    return uri.endsWith("/") ? uri.substring(keyStart, uri.length() - 1) : uri.substring(keyStart);
  }

  private void answer(
      HttpServletResponse response, KeyReadRouter.KeyRead.Local local, boolean binary)
      throws IOException {
    KeyReadRouter.KeyAnswer answer = local.answer();
    response.setStatus(answer.error() != null ? HttpErrors.statusOf(answer.error().code()) : 200);
    if (binary) {
      ApiRequests.binaryHeaders(answer, response::setHeader);
    }
    if (binary && local.bytes() != null) {
      write(response, KeyReadRouter.OCTET_STREAM, local.bytes());
    } else {
      write(response, JSON, mapper.writeValueAsBytes(answer));
    }
  }

  /** Answers with a peer's answer once it comes; the request stays suspended until then. */
  private void relay(
      HttpServletRequest request,
      HttpServletResponse response,
      CompletableFuture<PeerForwarder.ForwardedAnswer> pending,
      long started) {
    AsyncContext async = request.startAsync();
    // The forward has its own deadline (backbone.http.forward.timeout.ms); no second one here.
    async.setTimeout(0);
    pending.whenComplete(
        (answer, failure) -> {
          try {
            if (failure != null) {
              fail(HttpApi.unwrap(failure), request, response);
            } else {
              response.setStatus(answer.status());
              answer.retryAfter().ifPresent(v -> response.setHeader("Retry-After", v));
              answer.servedBy().ifPresent(v -> response.setHeader(PeerForwarder.SERVED_BY, v));
              answer.metadata().forEach(response::setHeader);
              write(response, answer.contentType(), answer.body());
            }
          } catch (IOException | RuntimeException e) {
            log.debug(
                "Relaying the answer to {} failed: {}", request.getRequestURI(), e.toString());
          } finally {
            record("GET", response, KEY_ROUTE, started);
            async.complete();
          }
        });
  }

  private void fail(Exception failure, HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    writeError(response, requests.failed(failure, request.getMethod(), request.getRequestURI()));
  }

  private void writeError(HttpServletResponse response, ApiError error) throws IOException {
    response.setStatus(error.status());
    ApiRequests.errorHeaders(error, response::setHeader);
    write(response, JSON, mapper.writeValueAsBytes(error.body()));
  }

  private static void write(HttpServletResponse response, String contentType, byte[] body)
      throws IOException {
    response.setContentType(contentType);
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }

  private void record(String method, HttpServletResponse response, String route, long started) {
    metrics.recordRequest(method, route, response.getStatus(), System.nanoTime() - started);
  }
}
