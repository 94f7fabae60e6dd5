package dev.backbone.server;

import static dev.backbone.server.ProfileNodes.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.routing.RoutingTable;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Routing by the published table on a real broker: three nodes, then a fourth joins, then one
 * leaves; every key reads the same through every live node after each change, a node with a stale
 * table still answers correctly, and a standby answers when asked with {@code staleOk=true}.
 *
 * <p>Every answer on the way is checked, not only the state reached at the end: readers keep
 * reading every key through every node while nodes join and leave, and each answer goes to one
 * {@link ReadChecker}. Each key has one event, so its only value is the profile after that event. A
 * key must exist once the state stage has committed past its event ({@link
 * TestKafkaCluster#hasCommittedToEnd}), or once any read returned it: from then on a fresh {@code
 * 404 KEY_NOT_FOUND} fails the test; only a 503 with {@code Retry-After} may be retried.
 */
@BackboneKafkaCluster(brokers = 1)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RoutingIT {
  private static final String STORE = CustomerProfilePipeline.PROFILE_STORE;
  private static final Duration STARTUP = Duration.ofSeconds(120);
  private static final Duration SETTLE = Duration.ofSeconds(90);
  private static final int CUSTOMERS = 24;

  private static final int READERS = 3;

  private static TestKafkaCluster kafka;
  private static PipelineSettings settings;
  private static final Map<String, BackboneNode> nodes = new LinkedHashMap<>();
  private static final ReadChecker<JsonNode> checker = new ReadChecker<>(RoutingIT::prefixesOf);

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

  @AfterEach
  void everyAnswerWasRight() {
    checker.assertNoViolations();
  }

  @Test
  @Order(1)
  void everyKeyReadsCorrectlyThroughEveryNodeOfThree() {
    String keyedEvents = new CustomerProfilePipeline(settings).keyedEventsTopic();
    await("the state stage committed every event")
        .atMost(STARTUP)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> kafka.hasCommittedToEnd(settings.applicationId(), keyedEvents));
    for (int i = 0; i < CUSTOMERS; i++) {
      checker.mustExist("c-" + i);
    }

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
    try (ContinuousReads reads = readEveryKeyThroughEveryNode()) {
      start("node-d");

      awaitSettled(4);
      assertThat(reads.completed()).as("reads while node-d joined").isPositive();
    }

    assertThat(activeTasksOf("node-d")).isNotEmpty();
  }

  @Test
  @Order(3)
  void aNodeWithAStaleTableStillAnswersCorrectly() throws Exception {
    BackboneNode stale = nodes.get("node-a");
    // Older generation, every active task on node-b: reads through node-a go to node-b, which
    // runs only some of them and must correct the route with its newer table.
    ProfileNodes.pinEveryTaskOn(stale, "node-b");
    try (ContinuousReads reads = readEveryKeyThroughEveryNode()) {
      Set<String> servedBy = new HashSet<>();
      for (int i = 0; i < CUSTOMERS; i++) {
        Reply reply = awaitValue("node-a", "c-" + i);
        servedBy.add(reply.json().path("node").asText());
      }
      // node-b forwarded reads it does not own to their owners: the stale route was corrected.
      assertThat(servedBy).contains("node-b").hasSizeGreaterThan(1);
      assertThat(reads.completed()).as("reads while node-a's table was stale").isPositive();
    } finally {
      stale.routing(ProfileNodes.STATE).unpin();
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
                () -> read("node-c", "standby-reader", key, "?staleOk=true"),
                r -> r.status() == 200 && r.json().path("stale").asBoolean(false));

    assertThat(reply.json().path("node").asText()).isEqualTo("node-c");
    assertThat(reply.json().path("lag").isNumber()).isTrue();
  }

  @Test
  @Order(5)
  void aLeavingNodesKeysMoveAndAreNeverAnsweredWrongly() throws Exception {
    try (ContinuousReads reads = readEveryKeyThroughEveryNode()) {
      nodes.remove("node-b").close();

      awaitSettled(3);
      assertThat(reads.completed()).as("reads while node-b left").isPositive();
    }

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
        awaitValue(id, "c-" + i);
      }
    }
  }

  /**
   * Reads a key through a node until it answers with a value. Every answer is checked as it comes:
   * a wrong value or a false "not found" fails at once; only 503 with {@code Retry-After}, or a
   * "not found" while the key need not exist yet, is retried.
   */
  private static Reply awaitValue(String nodeId, String key) {
    return await()
        .atMost(SETTLE)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              Reply r = read(nodeId, "settle-via-" + nodeId, key, "");
              checker.assertNoViolations();
              return r;
            },
            r -> r.status() == 200);
  }

  /** One read of a key through a node by a client, recorded in the checker. */
  private static Reply read(String nodeId, String client, String key, String query) {
    ReadChecker<JsonNode>.Read read = checker.begin(client, key);
    Reply r = http(nodeId).get("/v1/stores/" + STORE + "/keys/" + key + query);
    read.end(ReadChecker.httpAnswer(r.status(), r.header("Retry-After").orElse(null), r.body()));
    return r;
  }

  /**
   * Readers that read every key through every node that is live when they start (a node that leaves
   * on the way refuses connections: recorded as no answer) until closed.
   */
  private static ContinuousReads readEveryKeyThroughEveryNode() {
    List<HttpProbe> probes = nodes.values().stream().map(n -> new HttpProbe(n.httpPort())).toList();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < CUSTOMERS; i++) {
      keys.add("c-" + i);
    }
    return ContinuousReads.start(
        checker,
        READERS,
        keys,
        (client, key) -> {
          HttpProbe probe =
              probes.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(probes.size()));
          Reply r = probe.get("/v1/stores/" + STORE + "/keys/" + key);
          return ReadChecker.httpAnswer(r.status(), r.header("Retry-After").orElse(null), r.body());
        });
  }

  /** Customer {@code c-i} has one event, an order of {@code i.50}: its one state. */
  private static Set<Integer> prefixesOf(String key, JsonNode profile) {
    long cents = Integer.parseInt(key.substring(2)) * 100L + 50;
    boolean afterTheOrder =
        profile.path("totalSpendCents").asLong() == cents
            && profile.path("orders").asLong() == 1
            && profile.path("counts").path("order").asLong() == 1
            && profile.path("customerId").asText().equals(key);
    return afterTheOrder ? Set.of(1) : Set.of();
  }

  private static String keyOfPartition(int partition) {
    for (int i = 0; i < CUSTOMERS; i++) {
      Reply reply = awaitValue("node-a", "c-" + i);
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
