package dev.backbone.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client's transport and retry rules against a plain HTTP server that answers as a node would
 * (the routing calls, key reads, and scripted failures). The cluster behaviour is in the server's
 * {@code QueryApiIT}, which runs the client against three real nodes.
 */
class BackboneClientTest {
  private HttpServer server;
  private ExecutorService serverThreads;
  private final AtomicInteger unavailableLeft = new AtomicInteger();

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/stores", this::answer);
    server.createContext("/v1/routing", x -> reply(x, 200, "{\"stages\":[]}"));
    serverThreads = Executors.newFixedThreadPool(2);
    server.setExecutor(serverThreads);
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
    serverThreads.shutdownNow();
  }

  private void answer(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getRawPath();
    if (path.equals("/v1/stores")) {
      reply(exchange, 200, "{\"stores\":[{\"name\":\"s\",\"stage\":\"state\"}]}");
    } else if (path.endsWith("/keys/bad")) {
      reply(exchange, 400, "{\"error\":{\"code\":\"BAD_KEY\",\"message\":\"no\"}}");
    } else if (path.endsWith("/keys/gone")) {
      reply(
          exchange,
          404,
          "{\"error\":{\"code\":\"KEY_NOT_FOUND\",\"message\":\"none\"},\"key\":\"gone\",\"node\":\"n1\",\"partition\":2,\"position\":\"P\"}");
    } else if (unavailableLeft.getAndDecrement() > 0) {
      exchange.getResponseHeaders().add("Retry-After", "1");
      reply(exchange, 503, "{\"error\":{\"code\":\"REBALANCING\",\"message\":\"moving\"}}");
    } else {
      reply(
          exchange,
          200,
          "{\"key\":\"k\",\"value\":{\"n\":1},\"node\":\"n1\",\"partition\":2,\"position\":\"P\"}");
    }
  }

  private static void reply(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  private BackboneClient client() {
    return BackboneClient.builder()
        .bootstrap("http://127.0.0.1:" + server.getAddress().getPort())
        .retries(3, Duration.ofMillis(1))
        .build();
  }

  @Test
  void aReadStartsNoThread() {
    // On a machine with under three cores CompletableFuture's default pool starts a thread per
    // task, and the JDK client's sendAsync completes every exchange there; the client must not.
    try (BackboneClient client = client()) {
      for (int i = 0; i < 50; i++) {
        client.get("s", "k");
      }
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      long before = threads.getTotalStartedThreadCount();
      for (int i = 0; i < 500; i++) {
        assertThat(client.get("s", "k").found()).isTrue();
      }
      assertThat(threads.getTotalStartedThreadCount() - before).isLessThan(10);
    }
  }

  @Test
  void aRetriableAnswerIsRetriedAndOthersAreNot() {
    try (BackboneClient client = client()) {
      unavailableLeft.set(2);
      KeyResult result = client.get("s", "k");
      assertThat(result.value().orElseThrow().path("n").asInt()).isEqualTo(1);
      assertThat(result.node()).isEqualTo("n1");
      assertThat(client.meterRegistry().counter("backbone.client.retries").count()).isEqualTo(2);

      unavailableLeft.set(10);
      assertThatThrownBy(() -> client.get("s", "k"))
          .isInstanceOfSatisfying(
              BackboneClientException.class,
              e -> {
                assertThat(e.code()).isEqualTo("REBALANCING");
                assertThat(e.isRetriable()).isTrue();
              });
      assertThat(client.meterRegistry().counter("backbone.client.retries").count()).isEqualTo(5);
      unavailableLeft.set(0);

      assertThatThrownBy(() -> client.get("s", "bad"))
          .isInstanceOfSatisfying(
              BackboneClientException.class,
              e -> {
                assertThat(e.code()).isEqualTo("BAD_KEY");
                assertThat(e.status()).isEqualTo(400);
              });
      assertThat(client.meterRegistry().counter("backbone.client.retries").count()).isEqualTo(5);

      KeyResult gone = client.get("s", "gone");
      assertThat(gone.found()).isFalse();
      assertThat(gone.partition()).isEqualTo(2);
    }
  }

  @Test
  void aNodeThatDoesNotAnswerIsAnUnreachableRetriableError() {
    try (BackboneClient client =
        BackboneClient.builder()
            .bootstrap("http://127.0.0.1:1")
            .retries(1, Duration.ofMillis(1))
            .timeout(Duration.ofMillis(500))
            .build()) {
      assertThatThrownBy(() -> client.get("s", "k"))
          .isInstanceOfSatisfying(
              BackboneClientException.class,
              e -> {
                assertThat(e.code()).isEqualTo("UNREACHABLE");
                assertThat(e.isRetriable()).isTrue();
              });
    }
  }

  @Test
  void aBootstrapThatIsNotAnEndpointIsRefusedAtOnce() {
    assertThatThrownBy(() -> BackboneClient.builder().bootstrap("node-0"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http://host:port");
    assertThatThrownBy(() -> BackboneClient.builder().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bootstrap");
  }
}
