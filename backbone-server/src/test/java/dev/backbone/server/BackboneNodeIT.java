package dev.backbone.server;

import static dev.backbone.server.ProfileNodes.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.server.internals.PositionTokens;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One node running both stages of the customer-profile pipeline against a real broker. */
@BackboneKafkaCluster(brokers = 1)
class BackboneNodeIT {
  private static final String STORE = CustomerProfilePipeline.PROFILE_STORE;
  private static final Duration STARTUP = Duration.ofSeconds(90);
  private static final Duration PROCESSING = Duration.ofSeconds(60);

  private static TestKafkaCluster kafka;
  private static PipelineSettings settings;
  private static BackboneNode node;
  private static HttpProbe http;

  @BeforeAll
  static void startNode(TestKafkaCluster cluster) throws Exception {
    kafka = cluster;
    settings = ProfileNodes.createPipeline(kafka, "server-it", 3);
    Path stateDir = Files.createTempDirectory("backbone-node-it");
    node = ProfileNodes.node(kafka, settings, "node-1", stateDir);
    node.start();
    http = new HttpProbe(node.httpPort());
    await("node ready").atMost(STARTUP).until(node::isReady);
  }

  @AfterAll
  static void closeNode() {
    if (node != null) {
      node.close();
      node.close();
      assertThat(node.isReady()).isFalse();
      assertThat(node.streams(ProfileNodes.STATE).state())
          .isEqualTo(KafkaStreams.State.NOT_RUNNING);
    }
  }

  @Test
  void servesTheProfileBuiltFromProducedEvents() {
    ProfileNodes.send(
        kafka,
        settings.inputTopic(),
        List.of(
            new String[] {"c-1", event("c-1", "view", "sku-1", "0")},
            new String[] {"c-1", event("c-1", "order", "sku-2", "19.99")},
            new String[] {"c-2", event("c-2", "cart", "sku-3", "5")}));

    Reply reply =
        await("profile of c-1")
            .atMost(PROCESSING)
            .until(
                () -> http.get("/v1/stores/" + STORE + "/keys/c-1"),
                r -> r.status() == 200 && r.json().path("value").path("orders").asLong() == 1);

    JsonNode answer = reply.json();
    assertThat(reply.header("content-type"))
        .hasValueSatisfying(t -> t.startsWith("application/json"));
    assertThat(answer.path("store").asText()).isEqualTo(STORE);
    assertThat(answer.path("key").asText()).isEqualTo("c-1");
    assertThat(answer.path("node").asText()).isEqualTo("node-1");
    assertThat(answer.path("partition").asInt()).isBetween(0, 2);
    assertThat(answer.path("value").path("customerId").asText()).isEqualTo("c-1");
    assertThat(answer.path("value").path("counts").path("view").asLong()).isEqualTo(1);
    assertThat(answer.path("value").path("totalSpendCents").asLong()).isEqualTo(1999);
    assertThat(answer.path("value").path("lastSkus").toString()).isEqualTo("[\"sku-2\",\"sku-1\"]");
    assertThat(PositionTokens.decode(answer.path("position").asText()).isEmpty()).isFalse();
  }

  @Test
  void listsTheProfileStoreAsRunning() {
    Reply reply = http.get("/v1/stores");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.json().path("node").asText()).isEqualTo("node-1");
    JsonNode store = reply.json().path("stores").get(0);
    assertThat(store.path("name").asText()).isEqualTo(STORE);
    assertThat(store.path("stage").asText()).isEqualTo(ProfileNodes.STATE);
    assertThat(store.path("state").asText()).isEqualTo("RUNNING");
  }

  @Test
  void answersErrorsAsJsonWithTheRightStatus() {
    Reply unknownStore = http.get("/v1/stores/no-such-store/keys/c-1");
    assertThat(unknownStore.status()).isEqualTo(404);
    assertThat(unknownStore.header("content-type"))
        .hasValueSatisfying(t -> t.startsWith("application/json"));
    assertThat(unknownStore.errorCode()).isEqualTo("STORE_NOT_FOUND");
    assertThat(unknownStore.json().path("error").path("message").asText()).contains(STORE);

    Reply missingKey = http.get("/v1/stores/" + STORE + "/keys/nobody-" + System.nanoTime());
    assertThat(missingKey.status()).isEqualTo(404);
    assertThat(missingKey.errorCode()).isEqualTo("KEY_NOT_FOUND");

    Reply overLong = http.get("/v1/stores/" + STORE + "/keys/" + "k".repeat(2000));
    assertThat(overLong.status()).isEqualTo(400);
    assertThat(overLong.errorCode()).isEqualTo("BAD_KEY");

    Reply invalidUtf8 = http.getRaw("/v1/stores/" + STORE + "/keys/%FF%FE");
    assertThat(invalidUtf8.status()).isEqualTo(400);
    assertThat(invalidUtf8.errorCode()).isEqualTo("BAD_KEY");

    // Jetty refuses '%zz' while parsing the request line, before any route sees it.
    Reply badEscape = http.getRaw("/v1/stores/" + STORE + "/keys/%zz");
    assertThat(badEscape.status()).isEqualTo(400);
    assertThat(badEscape.header("content-type"))
        .hasValueSatisfying(t -> t.startsWith("application/json"));
    assertThat(badEscape.errorCode()).isEqualTo("BAD_REQUEST");

    Reply unknownPath = http.get("/v2/whatever");
    assertThat(unknownPath.status()).isEqualTo(404);
    assertThat(unknownPath.errorCode()).isEqualTo("NOT_FOUND");
    assertThat(unknownPath.body()).doesNotContain("Exception");

    Reply wrongMethod = http.send("POST", "/v1/stores/" + STORE + "/keys/c-1");
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(wrongMethod.errorCode()).isEqualTo("METHOD_NOT_ALLOWED");
  }

  @Test
  void isLiveAndReadyOnceEveryStageRuns() {
    assertThat(http.get("/health/live").status()).isEqualTo(200);

    Reply ready = http.get("/health/ready");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().path("status").asText()).isEqualTo("UP");
    assertThat(ready.json().path("stages").path(ProfileNodes.INGEST).asText()).isEqualTo("RUNNING");
    assertThat(ready.json().path("stages").path(ProfileNodes.STATE).asText()).isEqualTo("RUNNING");
  }

  @Test
  void showsTheClusterFromThePublishedRoutingTable() {
    Reply reply =
        await("a routing table")
            .atMost(PROCESSING)
            .until(
                () -> http.get("/v1/cluster"),
                r -> r.json().path("generations").path(ProfileNodes.STATE).asLong() > 0);

    assertThat(reply.status()).isEqualTo(200);
    JsonNode nodes = reply.json().path("nodes");
    assertThat(nodes).hasSize(1);
    assertThat(nodes.get(0).path("endpoint").asText()).isEqualTo("127.0.0.1:" + node.httpPort());
    assertThat(nodes.get(0).path("id").asText()).isEqualTo("node-1");
    assertThat(nodes.get(0).path("state").asText()).isEqualTo("UP");
    assertThat(reply.json().path("tasks").findValuesAsText("active")).containsOnly("node-1");
    assertThat(nodes.get(0).path("activeTasks").toString())
        .contains("state/0_0", "state/0_1", "state/0_2");
    JsonNode stages = reply.json().path("stages");
    assertThat(stages).hasSize(2);
    assertThat(stages.get(0).path("name").asText()).isEqualTo(ProfileNodes.INGEST);
    assertThat(stages.get(1).path("name").asText()).isEqualTo(ProfileNodes.STATE);
    assertThat(stages.get(1).path("state").asText()).isEqualTo("RUNNING");
    assertThat(stages.get(1).path("localThreads").get(0).path("activeTasks").toString())
        .contains("0_0", "0_1", "0_2");
  }

  @Test
  void showsEveryLocalStorePartitionWithItsLagOnRequest() {
    assertThat(http.get("/v1/cluster").json().path("stages").get(1).has("localStores"))
        .as("no lags unless asked")
        .isFalse();
    JsonNode stores =
        await("every profile partition with a lag")
            .atMost(PROCESSING)
            .until(
                () -> http.get("/v1/cluster?lags=true").json().path("stages").get(1),
                stage -> stage.path("localStores").size() == 3)
            .path("localStores");
    for (JsonNode store : stores) {
      assertThat(store.path("store").asText()).isEqualTo(STORE);
      assertThat(store.path("endOffset").asLong())
          .isGreaterThanOrEqualTo(store.path("currentOffset").asLong());
      assertThat(store.path("lag").asLong()).isNotNegative();
    }
    assertThat(stores.findValuesAsText("partition")).containsExactly("0", "1", "2");

    Reply bad = http.get("/v1/cluster?lags=maybe");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.errorCode()).isEqualTo("BAD_REQUEST");
  }

  @Test
  void exportsKafkaStreamsHttpAndDlqMetrics() {
    ProfileNodes.send(
        kafka, settings.inputTopic(), List.<String[]>of(new String[] {"c-bad", "not json"}));
    http.get("/v1/stores");

    String metrics =
        await("a DLQ event counted")
            .atMost(PROCESSING)
            .until(() -> http.get("/metrics").body(), body -> dlqTotal(body) >= 1);

    assertThat(http.get("/metrics").header("content-type"))
        .hasValueSatisfying(t -> t.startsWith("text/plain; version=0.0.4"));
    assertThat(metrics)
        .contains("kafka_stream_")
        .contains("backbone_http_requests_seconds_count{method=\"GET\",route=\"/v1/stores\"")
        .contains("backbone_dlq_events_total")
        .contains("backbone_node_ready{node=\"node-1\"} 1")
        .contains("jvm_");
  }

  @Test
  void exportsWhatTheRoutingPublisherDid() {
    // The only node leads every rebalance of its stage with a store and publishes its tables.
    String metrics =
        await("a routing table published")
            .atMost(PROCESSING)
            .until(
                () -> http.get("/metrics").body(),
                body ->
                    body.lines()
                        .anyMatch(
                            l ->
                                l.startsWith(
                                        "backbone_routing_published_generation{stage=\"state\"}")
                                    && !l.endsWith(" 0.0")));

    assertThat(metrics)
        .contains("backbone_routing_publish_waiting{stage=\"state\"} 0.0")
        .contains("backbone_routing_publish_failures_total{stage=\"state\"} 0.0");
  }

  @Test
  void exportsTheBackboneStoreMetricsOfEveryProfileStore() {
    ProfileNodes.send(
        kafka,
        settings.inputTopic(),
        List.<String[]>of(new String[] {"c-metrics", event("c-metrics", "view", "sku-1", "0")}));
    // Tasks' stores appear after the node started: the binder finds their metrics within seconds.
    String metrics =
        await("store commits exported")
            .atMost(PROCESSING)
            .until(() -> http.get("/metrics").body(), body -> storeCommits(body) >= 1);
    assertThat(metrics)
        .containsPattern("kafka_stream_state_backbone_committed_offset\\{[^}]*customer-profiles")
        .containsPattern("kafka_stream_state_backbone_dirty\\{[^}]*customer-profiles")
        .containsPattern("kafka_stream_state_backbone_estimated_num_keys\\{[^}]*customer-profiles");
  }

  private static double storeCommits(String metrics) {
    Matcher m =
        Pattern.compile(
                "(?m)^kafka_stream_state_backbone_commit_total\\{[^}]*"
                    + "backbone_state_id=\"customer-profiles\"[^}]*} ([0-9.eE+-]+)$")
            .matcher(metrics);
    double total = 0;
    while (m.find()) {
      total += Double.parseDouble(m.group(1));
    }
    return total;
  }

  @Test
  void aNodeStartsOnlyOnce() {
    assertThatThrownBy(node::start).isInstanceOf(IllegalStateException.class);
  }

  private static double dlqTotal(String metrics) {
    Matcher m =
        Pattern.compile("(?m)^backbone_dlq_events_total\\{[^}]*} ([0-9.eE+-]+)$").matcher(metrics);
    double total = 0;
    while (m.find()) {
      total += Double.parseDouble(m.group(1));
    }
    return total;
  }
}
