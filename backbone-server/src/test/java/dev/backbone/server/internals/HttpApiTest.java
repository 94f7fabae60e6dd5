package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.bootstrap.ColdBootstrap;
import dev.backbone.bootstrap.SnapshotLender;
import dev.backbone.config.BackboneConfig;
import dev.backbone.server.HttpProbe;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.server.QueryableStore;
import dev.backbone.store.SnapshotStores;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.kafka.common.serialization.LongSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTP surface of a node whose stages have not started: everything that needs no broker. */
class HttpApiTest {
  private static final ColdBootstrap.Status COPYING =
      new ColdBootstrap.Status(
          "app", "0_1", "numbers", "copying", "node-b", 250_000, 1_000_000, 500_000.0, 2L);
  private static final LocalNode NODE =
      new FixedLocalNode("node-t", List.of("ingest", "state"), List.of(COPYING));

  private static PrometheusMeterRegistry registry;
  private static NodeMetrics metrics;
  private static HttpApi api;
  private static HttpProbe http;

  @BeforeAll
  static void startServer() {
    BackboneConfig config =
        BackboneConfig.of(
            Map.of(
                "backbone.node.id", "node-t",
                "backbone.http.port", "0",
                "backbone.http.retry.after.seconds", "3",
                "backbone.http.max.key.bytes", "64"));
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    metrics = new NodeMetrics(registry, "node-t", NODE::isReady);
    QueryableStore<Long, String> numbers =
        new QueryableStore<>(
            "numbers", "state", Long::parseLong, new LongSerializer(), Function.identity());
    QueryableStore<String, String> names =
        QueryableStore.withStringKeys("names", "state", Function.identity());
    api =
        new HttpApi(
            NODE,
            config,
            registry,
            metrics,
            List.of(numbers, names),
            new SnapshotLender(
                new SnapshotStores(),
                new SnapshotLender.Settings(1, Duration.ofMinutes(1), Duration.ZERO),
                Clock.systemUTC()),
            Map::of,
            List.of());
    api.start();
    http = new HttpProbe(api.port());
  }

  @AfterAll
  static void stopServer() {
    api.close();
    metrics.close();
  }

  @Test
  void theOpenApiDescriptionNamesExactlyThePublicRoutesAndIsTheCopyInDocs() throws Exception {
    Reply reply = http.get("/v1/openapi.json");
    assertThat(reply.status()).isEqualTo(200);
    JsonNode spec = reply.json();
    Set<String> described = new TreeSet<>();
    spec.path("paths")
        .properties()
        .forEach(
            path ->
                path.getValue()
                    .properties()
                    .forEach(
                        method ->
                            described.add(
                                method.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey())));
    Set<String> served = new TreeSet<>();
    for (String route : api.routes()) {
      // The internal snapshot transfer is not public API; the two key-less routes exist only to
      // answer an empty key or prefix with 400 BAD_KEY.
      if (!route.contains(" /internal/")
          && !route.endsWith("/{store}/keys")
          && !route.endsWith("/{store}/prefix")) {
        served.add(route);
      }
    }
    assertThat(described).isEqualTo(served);
    assertThat(Files.readString(Path.of("..", "docs", "openapi.json")))
        .as("docs/openapi.json is the copy of the served description")
        .isEqualTo(reply.body());
  }

  @Test
  void livenessAnswersWhileStagesAreDown() {
    Reply reply = http.get("/health/live");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.json().path("status").asText()).isEqualTo("UP");
    assertThat(reply.header("content-type"))
        .hasValueSatisfying(t -> t.startsWith("application/json"));
    assertThat(reply.header("X-Backbone-Node")).contains("node-t");
    assertThat(http.get("/health/live?probe=lb").status()).isEqualTo(200);
    assertThat(http.send("DELETE", "/health/live").status()).isEqualTo(405);
  }

  @Test
  void readinessIs503WithEachStagesState() {
    Reply reply = http.get("/health/ready");

    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.json().path("status").asText()).isEqualTo("DOWN");
    assertThat(reply.json().path("stages").path("ingest").asText()).isEqualTo("NOT_STARTED");
    assertThat(reply.json().path("stages").path("state").asText()).isEqualTo("NOT_STARTED");
  }

  @Test
  void listsTheStoresWithTheirStagesState() {
    Reply reply = http.get("/v1/stores");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.json().path("node").asText()).isEqualTo("node-t");
    assertThat(reply.json().path("stores").findValuesAsText("name"))
        .containsExactly("names", "numbers");
    assertThat(reply.json().path("stores").get(0).path("stage").asText()).isEqualTo("state");
    assertThat(reply.json().path("stores").get(0).path("state").asText()).isEqualTo("NOT_STARTED");
    assertThat(reply.header("X-Backbone-Node")).contains("node-t");
  }

  @Test
  void anUnknownStoreIs404StoreNotFoundNamingTheKnownStores() {
    Reply reply = http.get("/v1/stores/nope/keys/1");

    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.header("content-type"))
        .hasValueSatisfying(t -> t.startsWith("application/json"));
    assertThat(reply.errorCode()).isEqualTo("STORE_NOT_FOUND");
    assertThat(reply.json().path("error").path("message").asText()).contains("names", "numbers");
  }

  @Test
  void aKeyTheParserRefusesIs400BadKeyWithTheParsersReason() {
    Reply reply = http.get("/v1/stores/numbers/keys/abc");

    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.errorCode()).isEqualTo("BAD_KEY");
    assertThat(reply.json().path("error").path("message").asText()).contains("abc", "numbers");
  }

  @Test
  void malformedKeysAre400BadKey() {
    assertThat(http.getRaw("/v1/stores/names/keys/%FF").errorCode()).isEqualTo("BAD_KEY");
    assertThat(http.getRaw("/v1/stores/names/keys/%C3").errorCode()).isEqualTo("BAD_KEY");
    assertThat(http.get("/v1/stores/names/keys/" + "k".repeat(1025)).errorCode())
        .isEqualTo("BAD_KEY");
    assertThat(http.get("/v1/stores/names/keys/").errorCode()).isEqualTo("BAD_KEY");
    assertThat(http.get("/v1/stores/names/keys").status()).isEqualTo(400);
  }

  @Test
  void aPathTheServerCannotParseIsA400JsonError() {
    Reply reply = http.getRaw("/v1/stores/names/keys/%zz");

    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.header("content-type"))
        .hasValueSatisfying(t -> t.startsWith("application/json"));
    assertThat(reply.errorCode()).isEqualTo("BAD_REQUEST");
  }

  @Test
  void anOverlongRequestLineIsA414JsonError() {
    Reply reply = http.getRaw("/v1/stores/names/keys/" + "k".repeat(20_000));

    assertThat(reply.status()).isEqualTo(414);
    assertThat(reply.errorCode()).isEqualTo("URI_TOO_LONG");
  }

  @Test
  void aValidKeyOfAStageThatIsNotRunningIs503RebalancingWithRetryAfter() {
    Reply reply = http.get("/v1/stores/names/keys/c-1");

    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.errorCode()).isEqualTo("REBALANCING");
    assertThat(reply.header("Retry-After")).contains("3");
    // An encoded slash is part of the key, not a path separator.
    assertThat(http.get("/v1/stores/names/keys/a%2Fb").errorCode()).isEqualTo("REBALANCING");
  }

  @Test
  void theKeyLimitIsTheConfiguredOneAndNamedInTheError() {
    assertThat(http.get("/v1/stores/names/keys/" + "k".repeat(64)).errorCode())
        .isEqualTo("REBALANCING");
    Reply tooLong = http.get("/v1/stores/names/keys/" + "k".repeat(65));
    assertThat(tooLong.errorCode()).isEqualTo("BAD_KEY");
    assertThat(tooLong.json().at("/error/message").asText())
        .contains("64 bytes", "backbone.http.max.key.bytes");
  }

  @Test
  void aBinaryReadOfAStoreWithoutABinaryFormIs406() {
    Reply reply =
        http.get("/v1/stores/names/keys/c-1", Map.of("Accept", "application/octet-stream"));

    assertThat(reply.status()).isEqualTo(406);
    assertThat(reply.errorCode()).isEqualTo("NOT_ACCEPTABLE");
    assertThat(reply.header("content-type"))
        .hasValueSatisfying(t -> t.startsWith("application/json"));
    // JSON first, or anything: the JSON read (here 503, the stage is not running).
    assertThat(
            http.get(
                    "/v1/stores/names/keys/c-1",
                    Map.of("Accept", "application/json, application/octet-stream"))
                .errorCode())
        .isEqualTo("REBALANCING");
  }

  @Test
  void corsIsOffNoOriginIsAllowed() {
    Reply get = http.get("/v1/stores", Map.of("Origin", "http://elsewhere.example"));
    assertThat(get.status()).isEqualTo(200);
    assertThat(get.header("Access-Control-Allow-Origin")).isEmpty();

    Reply preflight =
        http.send(
            "OPTIONS",
            "/v1/stores",
            Map.of(
                "Origin", "http://elsewhere.example",
                "Access-Control-Request-Method", "GET"));
    assertThat(preflight.header("Access-Control-Allow-Origin")).isEmpty();
    assertThat(preflight.header("Access-Control-Allow-Methods")).isEmpty();
    assertThat(preflight.status()).isBetween(400, 499);
  }

  @Test
  void eventsToAnApplicationWithoutEventTopicsAre404() {
    Reply reply = http.post("/v1/events", "{\"events\":[{\"id\":\"x\"}]}", Map.of());

    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.errorCode()).isEqualTo("EVENT_TOPIC_NOT_FOUND");
  }

  @Test
  void keyReadsAreCheckedAndAnsweredLikeEveryOtherCallWithTheirOwnRouteInTheRequestMetric() {
    Reply badFlag = http.get("/v1/stores/names/keys/c-1?staleOk=maybe");
    assertThat(badFlag.status()).isEqualTo(400);
    assertThat(badFlag.errorCode()).isEqualTo("BAD_REQUEST");
    assertThat(badFlag.header("X-Backbone-Node")).contains("node-t");
    assertThat(http.getRaw("/v1/stores/names/keys/c-1?minPosition=%zz").errorCode())
        .isEqualTo("BAD_REQUEST");
    assertThat(http.get("/v1/stores/names/keys/c-1?minPosition=not-a-token").status())
        .isEqualTo(400);
    // A trailing slash is the same key, as Javalin matched it; a second segment is no key route.
    assertThat(http.get("/v1/stores/names/keys/c-1/").errorCode()).isEqualTo("REBALANCING");
    assertThat(http.get("/v1/stores/names/keys/c-1/x").status()).isEqualTo(404);
    assertThat(http.send("POST", "/v1/stores/names/keys/c-1").status()).isEqualTo(405);

    assertThat(http.get("/metrics").body())
        .contains(
            "backbone_http_requests_seconds_count{method=\"GET\",route=\"/v1/stores/{store}/keys/{key}\",status=\"503\"}")
        .contains("route=\"/v1/stores/{store}/keys/{key}\",status=\"400\"")
        .doesNotContain("c-1");
  }

  @Test
  void onlyKeyGetsOfExactlyTheRoutesShapeTakeTheDirectPath() {
    assertThat(DirectCallsHandler.keyStart("GET", "/v1/stores/s/keys/k")).isEqualTo(18);
    assertThat(DirectCallsHandler.keyStart("GET", "/v1/stores/s/keys/k/")).isEqualTo(18);
    assertThat(DirectCallsHandler.keyStart("GET", "/v1/stores/s/keys/a%2Fb")).isEqualTo(18);
    assertThat(DirectCallsHandler.keyStart("HEAD", "/v1/stores/s/keys/k")).isNegative();
    assertThat(DirectCallsHandler.keyStart("PUT", "/v1/stores/s/keys/k")).isNegative();
    assertThat(DirectCallsHandler.keyStart("GET", "/v1/stores/s/keys/")).isNegative();
    assertThat(DirectCallsHandler.keyStart("GET", "/v1/stores/s/keys//")).isNegative();
    assertThat(DirectCallsHandler.keyStart("GET", "/v1/stores/s/keys")).isNegative();
    assertThat(DirectCallsHandler.keyStart("GET", "/v1/stores//keys/k")).isNegative();
    assertThat(DirectCallsHandler.keyStart("GET", "/v1/stores/s/keys/k/x")).isNegative();
    assertThat(DirectCallsHandler.keyStart("GET", "/v1/stores/s/range")).isNegative();
    assertThat(DirectCallsHandler.keyStart("GET", "/v1/stores/s/keys:batchGet")).isNegative();
  }

  @Test
  void unknownPathsAre404JsonAndWrongMethods405Json() {
    Reply notFound = http.get("/nope");
    assertThat(notFound.status()).isEqualTo(404);
    assertThat(notFound.errorCode()).isEqualTo("NOT_FOUND");
    assertThat(notFound.header("content-type"))
        .hasValueSatisfying(t -> t.startsWith("application/json"));

    Reply wrongMethod = http.send("DELETE", "/v1/stores");
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(wrongMethod.errorCode()).isEqualTo("METHOD_NOT_ALLOWED");
  }

  @Test
  void theClusterViewListsStagesThatHaveNotStarted() {
    Reply reply = http.get("/v1/cluster");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.json().path("node").asText()).isEqualTo("node-t");
    assertThat(reply.json().path("nodes").isArray()).isTrue();
    assertThat(reply.json().path("stages").findValuesAsText("state"))
        .containsExactly("NOT_STARTED", "NOT_STARTED");
  }

  @Test
  void theClusterViewWithLagsShowsTheBootstrapsInProgress() {
    Reply withLags = http.get("/v1/cluster?lags=true");
    assertThat(withLags.status()).isEqualTo(200);
    JsonNode copy = withLags.json().path("bootstraps").path(0);
    assertThat(copy.path("task").asText()).isEqualTo("0_1");
    assertThat(copy.path("store").asText()).isEqualTo("numbers");
    assertThat(copy.path("phase").asText()).isEqualTo("copying");
    assertThat(copy.path("from").asText()).isEqualTo("node-b");
    assertThat(copy.path("bytesDone").asLong()).isEqualTo(250_000);
    assertThat(copy.path("bytesTotal").asLong()).isEqualTo(1_000_000);
    assertThat(copy.path("etaSeconds").asLong()).isEqualTo(2);

    assertThat(http.get("/v1/cluster").json().has("bootstraps"))
        .as("only with ?lags=true")
        .isFalse();
  }

  @Test
  void metricsArePrometheusTextWithRequestTimerReadinessAndJvm() {
    http.get("/health/live");
    http.get("/no/such/path");

    Reply reply = http.get("/metrics");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.header("content-type"))
        .hasValueSatisfying(t -> t.startsWith("text/plain; version=0.0.4"));
    assertThat(reply.body())
        .contains(
            "backbone_http_requests_seconds_count{method=\"GET\",route=\"/health/live\",status=\"200\"}")
        .contains("route=\"unmatched\",status=\"404\"")
        .doesNotContain("/no/such/path")
        .contains("backbone_node_ready{node=\"node-t\"} 0")
        .contains("jvm_memory_used_bytes");
  }
}
