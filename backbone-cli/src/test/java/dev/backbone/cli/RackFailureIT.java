package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.assignment.AssignmentMetrics;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.server.BackboneNode;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Losing a whole rack loses no task: six nodes on three racks run the customer-profile pipeline
 * with one standby and the rack-aware assignor; both nodes of rack-a run as child JVMs and are
 * killed with SIGKILL (no clean leave: the group notices after a short session timeout); every task
 * still had a replica on another rack, processing continues and every profile stays exact; when the
 * rack returns, the rebalance spreads every task's replicas over distinct racks again. Readers read
 * every profile from before the kill until the end, through the live nodes (two plainly, one with
 * {@code staleOk=true}) and through the Java client, and every answer is checked ({@link
 * ReadChecker}): the profile after some prefix of the customer's events, never "not found" once the
 * customer's first events were committed, and a fresh one never older than one the same reader saw
 * (a stale one may be).
 */
@BackboneKafkaCluster(brokers = 1)
class RackFailureIT {
  private static final int NODES = 6;
  private static final int PARTITIONS = 6;
  private static final int CUSTOMERS = 40;
  private static final long EVENTS = 1_200;
  private static final Duration PATIENCE = Duration.ofSeconds(120);

  /** The broker's default group.min.session.timeout.ms, so a killed member is gone in ~6 s. */
  private static final int SESSION_TIMEOUT_MS = 6_000;

  private static final int[] RACK_A = {0, 3};

  @TempDir Path stateRoot;
  private final List<BackboneNode> nodes = new ArrayList<>();
  private final Map<Integer, ChildNode> children = new ConcurrentSkipListMap<>();

  @AfterEach
  void stopNodes() throws InterruptedException {
    for (ChildNode child : children.values()) {
      child.killIfAlive();
    }
    nodes.stream().filter(n -> n != null).forEach(BackboneNode::close);
  }

  @Test
  void losingARackLosesNoTaskAndTheRuleHoldsAgainAfterItReturns(TestKafkaCluster kafka)
      throws Exception {
    CustomerProfilePipeline pipeline =
        ProfileFixtures.exactlyOncePipeline(kafka, "racks", PARTITIONS);
    String appId = pipeline.settings().applicationId();
    Properties shortSession = new Properties();
    shortSession.put("session.timeout.ms", Integer.toString(SESSION_TIMEOUT_MS));
    shortSession.put("heartbeat.interval.ms", Integer.toString(SESSION_TIMEOUT_MS / 4));
    // The in-process nodes first: the group leader is among them and stays through the kill.
    for (int i = 0; i < NODES; i++) {
      nodes.add(
          isRackA(i)
              ? null
              : ProfileFixtures.startNode(pipeline, kafka, stateRoot, i, rackOf(i), shortSession));
    }
    for (int i : RACK_A) {
      children.put(i, startChild(kafka, appId, i, "run-1"));
    }
    List<Map.Entry<String, String>> events =
        ProfileFixtures.knownEvents(pipeline.settings().inputTopic(), CUSTOMERS, EVENTS, 11L, 0.02);
    ProfileOracle oracle = new ProfileOracle();
    events.forEach(e -> oracle.accept(e.getValue()));
    int half = events.size() / 2;
    ProfileFixtures.produce(kafka, pipeline.settings().inputTopic(), events.subList(0, half));

    ReadChecker<JsonNode> checker = new ReadChecker<>(oracle);
    ProfileFixtures.awaitCommitted(kafka, pipeline);
    firstHalf(events).profiles().keySet().forEach(checker::mustExist);
    await("every task on two racks, six nodes")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              assertReplicasOnDistinctRacks(Set.of("rack-a", "rack-b", "rack-c"));
              ProfileFixtures.assertEveryProfileThroughEveryNode(
                  ports(), firstHalf(events), checker);
            });
    assertThat(racksByTask())
        .allSatisfy(
            (task, racks) ->
                assertThat(racks)
                    .as("task %s survives rack-a", task)
                    .isNotEqualTo(Set.of("rack-a")));

    try (ProfileFixtures.Readers reads =
        ProfileFixtures.readContinuouslyWithStaleAndClient(
            checker, () -> List.copyOf(ports().values()), oracle.profiles().keySet())) {
      // rack-a fails: SIGKILL to both of its nodes, mid-stream (the second half is on its way).
      ProfileFixtures.produce(
          kafka, pipeline.settings().inputTopic(), events.subList(half, events.size()));
      for (int i : RACK_A) {
        children.remove(i).kill();
      }

      await("exact profiles on the surviving racks")
          .atMost(PATIENCE)
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> {
                assertReplicasOnDistinctRacks(Set.of("rack-b", "rack-c"));
                ProfileFixtures.assertEveryProfileThroughEveryNode(ports(), oracle, checker);
              });

      for (int i : RACK_A) {
        children.put(i, startChild(kafka, appId, i, "run-2"));
      }
      await("the rule over three racks again")
          .atMost(PATIENCE)
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> {
                assertReplicasOnDistinctRacks(Set.of("rack-a", "rack-b", "rack-c"));
                ProfileFixtures.assertEveryProfileThroughEveryNode(ports(), oracle, checker);
              });
      assertThat(reads.completed()).isPositive();
    }
    checker.assertNoViolations();

    BackboneNode leader =
        nodes.stream()
            .filter(n -> n != null)
            .filter(n -> AssignmentMetrics.rackViolations(n.nodeId() + "-state").isPresent())
            .findFirst()
            .orElseThrow();
    assertThat(AssignmentMetrics.rackViolations(leader.nodeId() + "-state")).hasValue(0);
    String metrics = HttpJson.getText(leader.httpPort(), "/metrics");
    assertThat(metrics)
        .containsPattern(
            "(?m)^backbone_assignment_rack_violations\\{[^}]*stage=\"state\"[^}]*} 0\\.0$");
  }

  private ChildNode startChild(TestKafkaCluster kafka, String appId, int i, String run)
      throws java.io.IOException {
    Path dir = stateRoot.resolve("node-" + i);
    return ChildNode.start(
        dir,
        run,
        kafka.bootstrapServers(),
        appId,
        dir.toString(),
        "exactly_once_v2",
        "node-" + i,
        rackOf(i),
        Integer.toString(PARTITIONS),
        "1",
        Integer.toString(SESSION_TIMEOUT_MS));
  }

  /** The oracle of the events produced before the kill. */
  private static ProfileOracle firstHalf(List<Map.Entry<String, String>> events) {
    ProfileOracle oracle = new ProfileOracle();
    events.subList(0, events.size() / 2).forEach(e -> oracle.accept(e.getValue()));
    return oracle;
  }

  /** Node id to HTTP port of every live node, in-process and child. */
  private Map<String, Integer> ports() {
    Map<String, Integer> ports = new TreeMap<>();
    for (int i = 0; i < NODES; i++) {
      ChildNode child = children.get(i);
      if (nodes.get(i) != null) {
        ports.put("node-" + i, nodes.get(i).httpPort());
      } else if (child != null) {
        ports.put("node-" + i, child.port());
      }
    }
    return ports;
  }

  /** Every state task has one active and one standby, on distinct racks, covering the racks. */
  private void assertReplicasOnDistinctRacks(Set<String> liveRacks) {
    Map<String, Set<String>> racksByTask = racksByTask();
    Map<String, Integer> replicas = replicasByTask();
    assertThat(racksByTask.keySet()).hasSize(PARTITIONS);
    assertThat(replicas)
        .allSatisfy((task, count) -> assertThat(count).as("replicas of %s", task).isEqualTo(2));
    assertThat(racksByTask)
        .allSatisfy(
            (task, racks) -> {
              assertThat(racks).as("racks of %s", task).hasSize(2);
              assertThat(liveRacks).containsAll(racks);
            });
    Set<String> used = new TreeSet<>();
    racksByTask.values().forEach(used::addAll);
    assertThat(used).isEqualTo(new TreeSet<>(liveRacks));
  }

  private Map<String, Set<String>> racksByTask() {
    Map<String, Set<String>> racks = new TreeMap<>();
    forEachReplica(
        (task, node) -> racks.computeIfAbsent(task, t -> new TreeSet<>()).add(rackOf(node)));
    return racks;
  }

  private Map<String, Integer> replicasByTask() {
    Map<String, Integer> count = new HashMap<>();
    forEachReplica((task, node) -> count.merge(task, 1, Integer::sum));
    return count;
  }

  /**
   * Every active and standby task of the state stage on every live node, from each node's own
   * threads as {@code GET /v1/cluster} reports them (the same for in-process and child nodes).
   */
  private void forEachReplica(BiConsumer<String, Integer> sink) {
    for (Map.Entry<String, Integer> node : ports().entrySet()) {
      int index = Integer.parseInt(node.getKey().substring("node-".length()));
      HttpJson.Response r = HttpJson.get(node.getValue(), "/v1/cluster");
      assertThat(r.status()).as("/v1/cluster of %s: %s", node.getKey(), r.body()).isEqualTo(200);
      JsonNode state = null;
      for (JsonNode stage : r.body().get("stages")) {
        if (stage.get("name").asText().equals("state")) {
          state = stage;
        }
      }
      assertThat(state).as("state stage of %s", node.getKey()).isNotNull();
      assertThat(state.get("state").asText())
          .as("state stage of %s", node.getKey())
          .isEqualTo("RUNNING");
      for (JsonNode thread : state.get("localThreads")) {
        thread.get("activeTasks").forEach(t -> sink.accept(t.asText(), index));
        thread.get("standbyTasks").forEach(t -> sink.accept(t.asText(), index));
      }
    }
  }

  private static boolean isRackA(int node) {
    return node % 3 == 0;
  }

  private static String rackOf(int node) {
    return "rack-" + (char) ('a' + node % 3);
  }
}
