package dev.backbone.server;

import static dev.backbone.server.ProfileNodes.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.server.internals.PositionTokens;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.query.Position;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two nodes of one application in one JVM: every key reads the same through either node, which
 * forwards to the owner when it is not the owner itself.
 */
@BackboneKafkaCluster(brokers = 1)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoNodeForwardingIT {
  private static final String STORE = CustomerProfilePipeline.PROFILE_STORE;
  private static final Duration STARTUP = Duration.ofSeconds(120);
  private static final Duration PROCESSING = Duration.ofSeconds(60);
  private static final int CUSTOMERS = 16;

  private static TestKafkaCluster kafka;
  private static PipelineSettings settings;
  private static BackboneNode nodeA;
  private static BackboneNode nodeB;
  private static HttpProbe httpA;
  private static HttpProbe httpB;

  @BeforeAll
  static void startTwoNodes(TestKafkaCluster cluster) throws Exception {
    kafka = cluster;
    settings = ProfileNodes.createPipeline(kafka, "forwarding-it", 4);
    nodeA = ProfileNodes.node(kafka, settings, "node-a", Files.createTempDirectory("backbone-a"));
    nodeB = ProfileNodes.node(kafka, settings, "node-b", Files.createTempDirectory("backbone-b"));
    nodeA.start();
    nodeB.start();
    httpA = new HttpProbe(nodeA.httpPort());
    httpB = new HttpProbe(nodeB.httpPort());
    // Both nodes RUNNING and each the owner of some state partitions: only then do reads cross.
    await("both nodes own state tasks")
        .atMost(STARTUP)
        .until(() -> nodeA.isReady() && nodeB.isReady() && ownersOfStateTasks().size() == 2);
  }

  @AfterAll
  static void closeNodes() {
    if (nodeA != null) {
      nodeA.close();
    }
    if (nodeB != null) {
      nodeB.close();
    }
  }

  @Test
  @Order(1)
  void everyKeyReadsTheSameThroughEitherNode() {
    List<String[]> events = new ArrayList<>();
    for (int i = 0; i < CUSTOMERS; i++) {
      events.add(new String[] {"c-" + i, event("c-" + i, "order", "sku-" + i, i + ".50")});
    }
    ProfileNodes.send(kafka, settings.inputTopic(), events);

    Set<String> servedThroughA = new HashSet<>();
    Set<String> servedThroughB = new HashSet<>();
    for (int i = 0; i < CUSTOMERS; i++) {
      String path = "/v1/stores/" + STORE + "/keys/c-" + i;
      Reply viaA = await().atMost(PROCESSING).until(() -> httpA.get(path), r -> r.status() == 200);
      Reply viaB = await().atMost(PROCESSING).until(() -> httpB.get(path), r -> r.status() == 200);

      assertThat(viaA.json().path("value")).isEqualTo(viaB.json().path("value"));
      assertThat(viaA.json().path("value").path("totalSpendCents").asLong())
          .isEqualTo(i * 100L + 50);
      assertThat(viaA.json().path("node")).isEqualTo(viaB.json().path("node"));
      assertThat(viaA.json().path("partition")).isEqualTo(viaB.json().path("partition"));
      assertThat(viaA.header("X-Backbone-Node")).contains(viaA.json().path("node").asText());
      servedThroughA.add(viaA.json().path("node").asText());
      servedThroughB.add(viaB.json().path("node").asText());
    }
    // Each node answered some keys itself and forwarded the others to its peer.
    assertThat(servedThroughA).containsExactlyInAnyOrder("node-a", "node-b");
    assertThat(servedThroughB).containsExactlyInAnyOrder("node-a", "node-b");
  }

  @Test
  @Order(2)
  void minPositionIsHonouredByTheOwnerAndThroughTheNodeThatForwards() {
    String key = keyServedBy("node-b");
    String path = "/v1/stores/" + STORE + "/keys/" + key;
    Reply first = httpB.get(path);
    assertThat(first.status()).isEqualTo(200);
    String token = first.json().path("position").asText();
    assertThat(token).isNotEmpty();

    // A token the replica has reached: answered at once, by the owner and through node-a.
    for (HttpProbe http : List.of(httpB, httpA)) {
      Reply reached = http.get(path + "?minPosition=" + token);
      assertThat(reached.status()).as("minPosition reached via %s", http).isEqualTo(200);
      assertThat(reached.json().path("value")).isEqualTo(first.json().path("value"));
      assertThat(reached.json().path("node").asText()).isEqualTo("node-b");
    }

    // A token ahead of everything the owner has processed: never an older answer, a 503.
    Position seen = PositionTokens.decode(token);
    Map<String, Map<Integer, Long>> ahead = new HashMap<>();
    for (String topic : seen.getTopics()) {
      Map<Integer, Long> offsets = new HashMap<>();
      seen.getPartitionPositions(topic).forEach((p, o) -> offsets.put(p, o + 1_000_000));
      ahead.put(topic, offsets);
    }
    assertThat(ahead).as("the answer's position names what it reflects").isNotEmpty();
    String aheadToken = PositionTokens.encode(Position.fromMap(ahead));
    for (HttpProbe http : List.of(httpB, httpA)) {
      long start = System.nanoTime();
      Reply behind = http.get(path + "?minPosition=" + aheadToken);
      assertThat(behind.status())
          .as("minPosition ahead via %s: token of %s, body %s", http, seen, behind.body())
          .isEqualTo(503);
      assertThat(behind.errorCode()).isEqualTo("POSITION_NOT_REACHED");
      assertThat(behind.header("Retry-After")).isPresent();
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("it waited for the replica to catch up first")
          .isGreaterThanOrEqualTo(Duration.ofMillis(1_900));
    }

    Reply malformed = httpA.get(path + "?minPosition=not-a-token");
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.errorCode()).isEqualTo("BAD_POSITION");
  }

  @Test
  @Order(3)
  void aForwardedReadIsNeverForwardedAgain() {
    String keyOfB = keyServedBy("node-b");

    Reply reply =
        httpA.get(
            "/v1/stores/" + STORE + "/keys/" + keyOfB, Map.of("X-Backbone-Forwarded-By", "node-x"));

    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.errorCode()).isEqualTo("REBALANCING");
    assertThat(reply.header("Retry-After")).isPresent();
  }

  @Test
  @Order(4)
  void whenTheOwnerLeavesReadsAreRetriableUntilTheSurvivorServesTheKey() {
    String keyOfB = keyServedBy("node-b");
    JsonNode valueServedByB =
        httpA.get("/v1/stores/" + STORE + "/keys/" + keyOfB).json().get("value");
    nodeB.close();

    List<String> wrongAnswers = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              Reply reply = httpA.get("/v1/stores/" + STORE + "/keys/" + keyOfB);
              boolean retriable =
                  reply.status() == 503
                      && Set.of("OWNER_UNREACHABLE", "REBALANCING").contains(reply.errorCode())
                      && reply.header("Retry-After").isPresent();
              boolean served =
                  reply.status() == 200
                      && reply.json().path("node").asText().equals("node-a")
                      && reply.json().get("value").equals(valueServedByB);
              if (!retriable && !served) {
                wrongAnswers.add(reply.status() + " " + reply.json());
              }
              return served;
            });
    // during the hand-over every answer was a retriable 503, never a wrong one
    assertThat(wrongAnswers).isEmpty();
  }

  private static String keyServedBy(String nodeId) {
    for (int i = 0; i < CUSTOMERS; i++) {
      Reply reply = httpA.get("/v1/stores/" + STORE + "/keys/c-" + i);
      if (reply.status() == 200 && reply.json().path("node").asText().equals(nodeId)) {
        return "c-" + i;
      }
    }
    throw new AssertionError("no key is served by " + nodeId);
  }

  private static Set<String> ownersOfStateTasks() {
    Set<String> owners = new HashSet<>();
    Reply cluster = httpA.get("/v1/cluster");
    for (JsonNode member : cluster.json().path("nodes")) {
      if (member.path("activeTasks").toString().contains("\"state/")) {
        owners.add(member.path("endpoint").asText());
      }
    }
    return owners;
  }
}
