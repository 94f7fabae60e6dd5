package dev.backbone.server.internals;

import dev.backbone.config.BackboneConfig;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.streams.state.HostInfo;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.api.Request;
import org.eclipse.jetty.client.api.Response;
import org.eclipse.jetty.client.api.Result;
import org.eclipse.jetty.client.http.HttpClientTransportOverHTTP;
import org.eclipse.jetty.client.util.BufferingResponseListener;
import org.eclipse.jetty.client.util.BytesRequestContent;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Sends a read on to the node that owns the key and brings its answer back unchanged, without a
 * thread waiting for it.
 *
 * <p>Why this is Jetty's client: a forward used to go through the JDK's {@code HttpClient} with a
 * request thread blocked on the answer, and through a non-owner a read was 12x slower than at the
 * owner, with an idle CPU. The JDK client's {@code sendAsync} finishes every exchange with a {@code
 * CompletableFuture} stage on the default async pool ({@code whenCompleteAsync} in {@code
 * HttpClientImpl#sendAsync}, JDK 17), and that pool is {@code ForkJoinPool.commonPool()} only if it
 * has a parallelism of at least two: on a machine with two cores it has one, and {@code
 * CompletableFuture} then starts a new thread for every task (its Javadoc says so; the thread dumps
 * showed {@code CompletableFuture$ThreadPerTaskExecutor} under every forward). So every forward
 * started and ended an OS thread, while a Jetty request thread sat blocked on it. Jetty's client is
 * non-blocking end to end, keeps a pool of keep-alive connections per peer, and completes the
 * future on its own small thread pool; the HTTP layer hands the future to Javalin ({@code
 * ctx.future}), so no request thread waits for a peer either.
 *
 * <p>Every forward is bounded by one deadline ({@code backbone.http.forward.timeout.ms}) that
 * covers connecting, the owner's work and reading the body. A forwarded request carries {@link
 * #FORWARDED_BY}, the routing generation it was routed by and its hop count; the receiving node
 * forwards it once more only if its own table is newer, which bounds every read to two hops even
 * while nodes disagree about ownership (see {@link KeyReadRouter}).
 */
final class PeerForwarder implements AutoCloseable {
  /** Header naming the node that forwarded a request. */
  static final String FORWARDED_BY = "X-Backbone-Forwarded-By";

  /** Header with the routing table generation the forwarding node routed by. */
  static final String ROUTING_GENERATION = "X-Backbone-Routing-Generation";

  /** Header counting the hops a read made so far (1 on the first forward). */
  static final String HOPS = "X-Backbone-Hops";

  /** Header naming the node that served an answer. */
  static final String SERVED_BY = "X-Backbone-Node";

  /** Connections kept open to one peer at most; more concurrent forwards queue for one. */
  static final int MAX_CONNECTIONS_PER_PEER = 128;

  /** Forwards waiting for a connection to one peer at most; more fail at once as unreachable. */
  static final int MAX_QUEUED_PER_PEER = 8192;

  /** The largest answer relayed: anything bigger is the owner's fault and fails the forward. */
  static final int MAX_ANSWER_BYTES = 64 * 1024 * 1024;

  private final String nodeId;
  private final Duration timeout;
  private final HttpClient client;
  private final Optional<String> authorization;
  private final String scheme;

  PeerForwarder(String nodeId, Duration timeout, Optional<String> authToken) {
    this(nodeId, timeout, authToken, Optional.empty());
  }

  /** As {@link #PeerForwarder(String, Duration, Optional)}, over HTTPS when {@code tls} is set. */
  PeerForwarder(
      String nodeId,
      Duration timeout,
      Optional<String> authToken,
      Optional<BackboneConfig.HttpTls> tls) {
    this.nodeId = nodeId;
    this.timeout = timeout;
    this.authorization = authToken.map(t -> "Bearer " + t);
    this.scheme = tls.isPresent() ? "https" : "http";
    QueuedThreadPool threads = new QueuedThreadPool(16, 2);
    threads.setName("backbone-forward-" + nodeId);
    threads.setDaemon(true);
    ClientConnector connector = new ClientConnector();
    tls.ifPresent(t -> connector.setSslContextFactory(HttpTlsSetup.jettyClient(t)));
    this.client = new HttpClient(new HttpClientTransportOverHTTP(connector));
    client.setExecutor(threads);
    client.setConnectTimeout(timeout.toMillis());
    client.setFollowRedirects(false);
    client.setMaxConnectionsPerDestination(MAX_CONNECTIONS_PER_PEER);
    client.setMaxRequestsQueuedPerDestination(MAX_QUEUED_PER_PEER);
    client.setUserAgentField(null);
    try {
      client.start();
    } catch (Exception e) {
      throw new IllegalStateException(
          "Node " + nodeId + " could not start its HTTP client for forwarding reads: " + e, e);
    }
  }

  /**
   * GETs {@code pathAndQuery} (already percent-encoded) from the owner.
   *
   * @return the owner's answer; fails with a {@link dev.backbone.errors.RetriableBackboneException}
   *     {@code OWNER_UNREACHABLE} if the owner does not answer within the deadline
   */
  CompletableFuture<ForwardedAnswer> get(
      HostInfo owner, String pathAndQuery, Map<String, String> headers) {
    return send(owner, HttpMethod.GET, pathAndQuery, headers, null);
  }

  /**
   * POSTs a JSON body to {@code pathAndQuery} (already percent-encoded) of the owner.
   *
   * @return as {@link #get}
   */
  CompletableFuture<ForwardedAnswer> postJson(
      HostInfo owner, String pathAndQuery, Map<String, String> headers, byte[] body) {
    return send(owner, HttpMethod.POST, pathAndQuery, headers, body);
  }

  private CompletableFuture<ForwardedAnswer> send(
      HostInfo owner,
      HttpMethod method,
      String pathAndQuery,
      Map<String, String> headers,
      byte[] body) {
    String host = owner.host().contains(":") ? "[" + owner.host() + "]" : owner.host();
    Request request =
        client
            .newRequest(scheme + "://" + host + ":" + owner.port() + pathAndQuery)
            .method(method)
            .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .headers(
                h -> {
                  h.put(HttpHeader.ACCEPT, "application/json");
                  h.put(FORWARDED_BY, nodeId);
                  authorization.ifPresent(a -> h.put(HttpHeader.AUTHORIZATION, a));
                  headers.forEach(h::put);
                });
    if (body != null) {
      request.body(new BytesRequestContent("application/json", body));
    }
    CompletableFuture<ForwardedAnswer> answer = new CompletableFuture<>();
    request.send(
        new BufferingResponseListener(MAX_ANSWER_BYTES) {
          @Override
          public void onComplete(Result result) {
            if (result.isFailed()) {
              answer.completeExceptionally(unreachable(owner, describe(result.getFailure())));
              return;
            }
            Response response = result.getResponse();
            String contentType = response.getHeaders().get(HttpHeader.CONTENT_TYPE);
            answer.complete(
                new ForwardedAnswer(
                    response.getStatus(),
                    contentType == null ? "application/json" : contentType,
                    getContent(),
                    Optional.ofNullable(response.getHeaders().get(HttpHeader.RETRY_AFTER)),
                    Optional.ofNullable(response.getHeaders().get(SERVED_BY)),
                    metadataHeaders(response)));
          }
        });
    return answer;
  }

  /** The owner's {@code X-Backbone-*} answer headers but its node id (a binary read's metadata). */
  private static Map<String, String> metadataHeaders(Response response) {
    Map<String, String> out = new LinkedHashMap<>();
    for (HttpField field : response.getHeaders()) {
      String name = field.getName();
      if (name.regionMatches(true, 0, "X-Backbone-", 0, 11) && !name.equalsIgnoreCase(SERVED_BY)) {
        out.put(name, field.getValue());
      }
    }
    return out;
  }

  private String describe(Throwable cause) {
    if (cause instanceof TimeoutException) {
      return "no answer within " + timeout.toMillis() + " ms";
    }
    String message = cause.getMessage();
    return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  private static RuntimeException unreachable(HostInfo owner, String why) {
    return HttpErrors.retriable(
        HttpErrors.OWNER_UNREACHABLE,
        "The node at "
            + owner.host()
            + ":"
            + owner.port()
            + " owns the key but did not answer ("
            + why
            + "); retry later, or check that node.");
  }

  @Override
  public void close() {
    try {
      client.stop();
    } catch (Exception e) {
      // Stopping aborts what is in flight; nothing else is held.
    }
  }

  /**
   * The owner's answer, relayed as is.
   *
   * @param status its HTTP status
   * @param contentType its content type
   * @param body its body
   * @param retryAfter its {@code Retry-After}, if any
   * @param servedBy the node id the owner named in {@link #SERVED_BY}, if any
   * @param metadata its other {@code X-Backbone-*} headers (a binary read's position, partition)
   */
  record ForwardedAnswer(
      int status,
      String contentType,
      byte[] body,
      Optional<String> retryAfter,
      Optional<String> servedBy,
      Map<String, String> metadata) {}
}
