package dev.backbone.server.internals;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Sends a read on to the node that owns the key and brings its answer back unchanged.
 *
 * <p>Every forward is bounded by one deadline ({@code backbone.http.forward.timeout.ms}) that
 * covers connecting, the owner's work and reading the body: the future is abandoned and cancelled
 * when it passes, so a stuck peer costs the caller at most that long. A forwarded request carries
 * {@link #FORWARDED_BY}, the routing generation it was routed by and its hop count; the receiving
 * node forwards it once more only if its own table is newer, which bounds every read to two hops
 * even while nodes disagree about ownership (see {@link KeyReadRouter}).
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

  private final String nodeId;
  private final Duration timeout;
  private final ExecutorService executor;
  private final HttpClient client;

  PeerForwarder(String nodeId, Duration timeout) {
    this.nodeId = nodeId;
    this.timeout = timeout;
    this.executor =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "backbone-forward-" + nodeId);
              t.setDaemon(true);
              return t;
            });
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(executor)
            .build();
  }

  /**
   * GETs {@code pathAndQuery} (already percent-encoded) from the owner.
   *
   * @throws dev.backbone.errors.RetriableBackboneException {@code OWNER_UNREACHABLE} if the owner
   *     does not answer within the deadline
   */
  ForwardedAnswer get(HostInfo owner, String pathAndQuery, Map<String, String> headers) {
    String host = owner.host().contains(":") ? "[" + owner.host() + "]" : owner.host();
    URI uri = URI.create("http://" + host + ":" + owner.port() + pathAndQuery);
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(uri)
            .GET()
            .timeout(timeout)
            .header("Accept", "application/json")
            .header(FORWARDED_BY, nodeId);
    headers.forEach(builder::header);
    HttpRequest request = builder.build();
    CompletableFuture<HttpResponse<String>> call =
        client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    try {
      HttpResponse<String> response = call.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return new ForwardedAnswer(
          response.statusCode(),
          response.headers().firstValue("Content-Type").orElse("application/json"),
          response.body(),
          response.headers().firstValue("Retry-After"),
          response.headers().firstValue(SERVED_BY));
    } catch (TimeoutException e) {
      call.cancel(true);
      throw unreachable(owner, "no answer within " + timeout.toMillis() + " ms");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw unreachable(owner, cause instanceof IOException ? describe(cause) : cause.toString());
    } catch (InterruptedException e) {
      call.cancel(true);
      Thread.currentThread().interrupt();
      throw unreachable(owner, "the forwarding thread was interrupted");
    }
  }

  private static String describe(Throwable cause) {
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
    executor.shutdownNow();
  }

  /**
   * The owner's answer, relayed as is.
   *
   * @param status its HTTP status
   * @param contentType its content type
   * @param body its body
   * @param retryAfter its {@code Retry-After}, if any
   * @param servedBy the node id the owner named in {@link #SERVED_BY}, if any
   */
  record ForwardedAnswer(
      int status,
      String contentType,
      String body,
      Optional<String> retryAfter,
      Optional<String> servedBy) {}
}
