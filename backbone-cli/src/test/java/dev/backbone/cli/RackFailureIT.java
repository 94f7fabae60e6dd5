package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.assignment.AssignmentMetrics;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.BackboneNode;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.ThreadMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Losing a whole rack loses no task: six nodes on three racks run the customer-profile pipeline
 * with one standby and the rack-aware assignor; both nodes of one rack go away, every task still
 * had a replica on another rack, processing continues and every profile stays exact; when the rack
 * returns, the rebalance spreads every task's replicas over distinct racks again.
 */
@BackboneKafkaCluster(brokers = 1)
class RackFailureIT {
  private static final int NODES = 6;
  private static final int PARTITIONS = 6;
  private static final int CUSTOMERS = 40;
  private static final long EVENTS = 1_200;
  private static final Duration PATIENCE = Duration.ofSeconds(180);

  @TempDir Path stateRoot;
  private final List<BackboneNode> nodes = new ArrayList<>();

  @AfterEach
  void closeNodes() {
    nodes.stream().filter(n -> n != null).forEach(BackboneNode::close);
  }

  @Test
  void losingARackLosesNoTaskAndTheRuleHoldsAgainAfterItReturns(TestKafkaCluster kafka) {
    String appId = kafka.uniqueName("racks");
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(
            new PipelineSettings(
                appId,
                appId + "-events",
                appId + "-dlq",
                PARTITIONS,
                (short) 1,
                "exactly_once_v2"));
    pipeline.createTopics(kafka.admin());
    for (int i = 0; i < NODES; i++) {
      nodes.add(ProfileFixtures.startNode(pipeline, kafka, stateRoot, i, rackOf(i)));
    }
    List<Map.Entry<String, String>> events =
        ProfileFixtures.knownEvents(pipeline.settings().inputTopic(), CUSTOMERS, EVENTS, 11L, 0.02);
    ProfileOracle oracle = new ProfileOracle();
    events.forEach(e -> oracle.accept(e.getValue()));
    int half = events.size() / 2;
    ProfileFixtures.produce(kafka, pipeline.settings().inputTopic(), events.subList(0, half));

    await("every task on two racks, six nodes")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(() -> assertReplicasOnDistinctRacks(Set.of("rack-a", "rack-b", "rack-c")));
    Map<String, Set<String>> racksBefore = racksByTask();

    // rack-a goes away: nodes 0 and 3.
    assertThat(racksBefore)
        .allSatisfy(
            (task, racks) ->
                assertThat(racks)
                    .as("task %s survives rack-a", task)
                    .isNotEqualTo(Set.of("rack-a")));
    for (int i : new int[] {0, 3}) {
      nodes.get(i).close();
      nodes.set(i, null);
    }
    ProfileFixtures.produce(
        kafka, pipeline.settings().inputTopic(), events.subList(half, events.size()));

    await("exact profiles on the surviving racks")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              assertReplicasOnDistinctRacks(Set.of("rack-b", "rack-c"));
              ProfileFixtures.assertEveryProfileThroughEveryNode(nodes, oracle);
            });

    for (int i : new int[] {0, 3}) {
      nodes.set(i, ProfileFixtures.startNode(pipeline, kafka, stateRoot, i, rackOf(i)));
    }
    await("the rule over three racks again")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              assertReplicasOnDistinctRacks(Set.of("rack-a", "rack-b", "rack-c"));
              ProfileFixtures.assertEveryProfileThroughEveryNode(nodes, oracle);
            });

    BackboneNode leader =
        nodes.stream()
            .filter(n -> AssignmentMetrics.rackViolations(n.nodeId() + "-state").isPresent())
            .findFirst()
            .orElseThrow();
    assertThat(AssignmentMetrics.rackViolations(leader.nodeId() + "-state")).hasValue(0);
    String metrics = HttpJson.getText(leader.httpPort(), "/metrics");
    assertThat(metrics)
        .containsPattern(
            "(?m)^backbone_assignment_rack_violations\\{[^}]*stage=\"state\"[^}]*} 0\\.0$");
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

  private void forEachReplica(java.util.function.BiConsumer<String, Integer> sink) {
    for (int i = 0; i < NODES; i++) {
      BackboneNode node = nodes.get(i);
      if (node == null) {
        continue;
      }
      KafkaStreams streams = node.streams("state");
      assertThat(streams.state())
          .as("state stage of %s", node.nodeId())
          .isEqualTo(KafkaStreams.State.RUNNING);
      for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
        final int index = i;
        thread.activeTasks().forEach(t -> sink.accept(t.taskId().toString(), index));
        thread.standbyTasks().forEach(t -> sink.accept(t.taskId().toString(), index));
      }
    }
  }

  private static String rackOf(int node) {
    return "rack-" + (char) ('a' + node % 3);
  }
}
