package dev.backbone.server;

import static dev.backbone.server.ProfileNodes.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.routing.RoutedMember;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingTable;
import dev.backbone.routing.TaskRoute;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Routing by the published table on a real broker: three nodes, then a fourth joins, then one
 * leaves; every key reads the same through every live node after each change, a node with a stale
 * table still answers correctly, and a standby answers when asked with {@code staleOk=true}.
 */
@BackboneKafkaCluster(brokers = 1)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RoutingIT {
  private static final String STORE = CustomerProfilePipeline.PROFILE_STORE;
  private static final Duration STARTUP = Duration.ofSeconds(120);
  private static final Duration SETTLE = Duration.ofSeconds(90);
  private static final int CUSTOMERS = 24;

  private static TestKafkaCluster kafka;
  private static PipelineSettings settings;
  private static final Map<String, BackboneNode> nodes = new LinkedHashMap<>();

  @BeforeAll
  static void startThreeNodes(TestKafkaCluster cluster) throws Exception {
    kafka = cluster;
    settings = ProfileNodes.createPipeline(kafka, "routing-it", 6);
    for (String id : List.of("node-a", "node-b", "node-c")) {
      start(id);
    }
    List<String[]> events = new ArrayList<>();
    for (int i = 0; i < CUSTOMERS; i++) {
      events.add(new String[] {"c-" + i, event("c-" + i, "order", "sku-" + i, i + ".50")});
    }
    ProfileNodes.send(kafka, settings.inputTopic(), events);
  }

  @AfterAll
  static void closeNodes() {
    nodes.values().forEach(BackboneNode::close);
  }

  @Test
  @Order(1)
  void everyKeyReadsCorrectlyThroughEveryNodeOfThree() {
    awaitSettled(3);

    JsonNode routing = http("node-a").get("/v1/routing").json().path("stages").get(0);
    assertThat(routing.path("generation").asLong()).isPositive();
    assertThat(routing.path("partitions").path("0").asInt()).isEqualTo(6);
    assertThat(routing.path("members")).hasSize(3);
    for (JsonNode member : routing.path("members")) {
      assertThat(member.path("endpoint").asText()).startsWith("127.0.0.1:");
      assertThat(member.path("state").asText()).isEqualTo("UP");
    }
  }

  @Test
  @Order(2)
  void aJoiningNodeTakesTasksAndEveryKeyStillReadsCorrectly() throws Exception {
    start("node-d");

    awaitSettled(4);

    assertThat(activeTasksOf("node-d")).isNotEmpty();
  }

  @Test
  @Order(3)
  void aNodeWithAStaleTableStillAnswersCorrectly() {
    BackboneNode stale = nodes.get("node-a");
    RoutingCache cache = stale.routing(ProfileNodes.STATE);
    RoutingTable current = cache.table();
    // Older generation, every active task on node-b: reads through node-a go to node-b, which
    // runs only some of them and must correct the route with its newer table.
    UUID nodeB =
        current.members().stream()
            .filter(m -> m.nodeId().equals("node-b"))
            .map(RoutedMember::processId)
            .findFirst()
            .orElseThrow();
    List<TaskRoute> wrong =
        current.tasks().stream()
            .map(r -> new TaskRoute(r.task(), Optional.of(nodeB), List.of()))
            .toList();
    cache.pin(
        new RoutingTable(
            current.applicationId(),
            current.generation() - 1,
            current.createdMs(),
            current.members(),
            wrong));
    try {
      Set<String> servedBy = new HashSet<>();
      for (int i = 0; i < CUSTOMERS; i++) {
        Reply reply = awaitValue(http("node-a"), "c-" + i);
        servedBy.add(reply.json().path("node").asText());
      }
      // node-b forwarded reads it does not own to their owners: the stale route was corrected.
      assertThat(servedBy).contains("node-b").hasSizeGreaterThan(1);
    } finally {
      cache.unpin();
    }
  }

  @Test
  @Order(4)
  void aStandbyAnswersWhenStaleReadsAreAllowed() {
    JsonNode cluster = http("node-c").get("/v1/cluster").json();
    String standbyTask = null;
    for (JsonNode node : cluster.path("nodes")) {
      if (node.path("id").asText().equals("node-c") && node.path("standbyTasks").size() > 0) {
        standbyTask = node.path("standbyTasks").get(0).asText();
      }
    }
    assertThat(standbyTask).as("node-c hosts a standby").isNotNull();
    int partition = Integer.parseInt(standbyTask.substring(standbyTask.indexOf('_') + 1));
    String key = keyOfPartition(partition);

    Reply reply =
        await()
            .atMost(SETTLE)
            .until(
                () -> http("node-c").get("/v1/stores/" + STORE + "/keys/" + key + "?staleOk=true"),
                r -> r.status() == 200 && r.json().path("stale").asBoolean(false));

    assertThat(reply.json().path("node").asText()).isEqualTo("node-c");
    assertThat(reply.json().path("lag").isNumber()).isTrue();
    int customer = Integer.parseInt(key.substring(2));
    assertThat(reply.json().path("value").path("totalSpendCents").asLong())
        .isBetween(0L, customer * 100L + 50);
  }

  @Test
  @Order(5)
  void aLeavingNodesKeysMoveAndAreNeverAnsweredWrongly() {
    nodes.remove("node-b").close();

    awaitSettled(3);

    JsonNode cluster = http("node-c").get("/v1/cluster").json();
    assertThat(cluster.findValues("id").stream().map(JsonNode::asText)).contains("node-b");
    for (JsonNode node : cluster.path("nodes")) {
      if (node.path("id").asText().equals("node-b")) {
        assertThat(node.path("state").asText()).isEqualTo("LEFT");
        assertThat(node.path("activeTasks")).isEmpty();
      }
    }
  }

  private static void start(String id) throws Exception {
    Properties extra = new Properties();
    extra.setProperty(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, "1");
    BackboneNode node =
        ProfileNodes.node(kafka, settings, id, Files.createTempDirectory("backbone-" + id), extra);
    node.start();
    nodes.put(id, node);
  }

  private static HttpProbe http(String id) {
    return new HttpProbe(nodes.get(id).httpPort());
  }

  /**
   * Waits until every live node is ready, all agree on one table naming {@code size} members, and
   * every key reads correctly through every node; every answer on the way is right or a retriable
   * 503.
   */
  private static void awaitSettled(int size) {
    await("nodes ready and one table of " + size + " members")
        .atMost(STARTUP)
        .until(
            () -> {
              Set<Long> generations = new HashSet<>();
              for (BackboneNode node : nodes.values()) {
                if (!node.isReady()) {
                  return false;
                }
                RoutingTable table = node.routing(ProfileNodes.STATE).table();
                if (table.members().size() != size) {
                  return false;
                }
                generations.add(table.generation());
              }
              return generations.size() == 1;
            });
    for (String id : nodes.keySet()) {
      for (int i = 0; i < CUSTOMERS; i++) {
        awaitValue(http(id), "c-" + i);
      }
    }
  }

  private static Reply awaitValue(HttpProbe http, String key) {
    long expected = Integer.parseInt(key.substring(2)) * 100L + 50;
    List<String> wrong = new ArrayList<>();
    Reply reply =
        await()
            .atMost(SETTLE)
            .pollInterval(Duration.ofMillis(100))
            .until(
                () -> http.get("/v1/stores/" + STORE + "/keys/" + key),
                r -> {
                  if (r.status() == 200) {
                    if (r.json().path("value").path("totalSpendCents").asLong() != expected) {
                      wrong.add(r.json().toString());
                    }
                    return true;
                  }
                  boolean retriable =
                      r.status() == 503 && r.header("Retry-After").isPresent()
                          || r.status() == 404 && "KEY_NOT_FOUND".equals(r.errorCode());
                  if (!retriable) {
                    wrong.add(r.status() + " " + r.body());
                  }
                  return false;
                });
    assertThat(wrong).as("wrong answers for " + key).isEmpty();
    return reply;
  }

  private static String keyOfPartition(int partition) {
    for (int i = 0; i < CUSTOMERS; i++) {
      Reply reply = awaitValue(http("node-a"), "c-" + i);
      if (reply.json().path("partition").asInt() == partition) {
        return "c-" + i;
      }
    }
    throw new AssertionError("no customer key falls in partition " + partition);
  }

  private static List<String> activeTasksOf(String id) {
    List<String> tasks = new ArrayList<>();
    for (JsonNode node : http(id).get("/v1/cluster").json().path("nodes")) {
      if (node.path("id").asText().equals(id)) {
        node.path("activeTasks").forEach(t -> tasks.add(t.asText()));
      }
    }
    return tasks;
  }
}
