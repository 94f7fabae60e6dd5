package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.BackboneNode;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The customer-profile application end to end on a real broker, wired exactly as {@code backbone
 * node} wires it: a known event set with malformed events goes in, three nodes on three racks
 * process it while one of them restarts, and every profile read through every node equals an
 * independent oracle; the dead-letter topic holds exactly the malformed events. Readers read every
 * profile through the live nodes all along, and every answer on the way is checked ({@link
 * ReadChecker}): a profile is the customer's profile after some prefix of its events, never older
 * than one the same reader saw, and never "not found" once its first events were committed.
 */
@BackboneKafkaCluster(brokers = 1)
class CustomerProfilesEndToEndIT {
  private static final int NODES = 3;
  private static final int CUSTOMERS = 60;
  private static final long EVENTS = 2_000;

  @TempDir Path stateRoot;
  private final List<BackboneNode> nodes = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeNodes() {
    nodes.forEach(BackboneNode::close);
  }

  @ParameterizedTest
  @ValueSource(strings = {"exactly_once_v2", "at_least_once"})
  void everyProfileMatchesTheOracleThroughEveryNodeAcrossARestart(
      String guarantee, TestKafkaCluster kafka) throws Exception {
    String appId = kafka.uniqueName("profiles");
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(
            new PipelineSettings(
                appId, appId + "-events", appId + "-dlq", 6, (short) 1, guarantee));
    pipeline.createTopics(kafka.admin());
    for (int i = 0; i < NODES; i++) {
      nodes.add(
          ProfileFixtures.startNode(pipeline, kafka, stateRoot, i, "rack-" + (char) ('a' + i)));
    }

    List<Map.Entry<String, String>> events =
        ProfileFixtures.knownEvents(pipeline.settings().inputTopic(), CUSTOMERS, EVENTS, 7L, 0.05);
    ProfileOracle oracle = new ProfileOracle();
    events.forEach(e -> oracle.accept(e.getValue()));
    assertThat(oracle.malformed()).as("the event set must contain malformed events").isPositive();

    int half = events.size() / 2;
    ReadChecker<JsonNode> checker = new ReadChecker<>(oracle);
    ProfileFixtures.produceCommitted(kafka, pipeline, events.subList(0, half), checker);

    try (ContinuousReads reads =
        ProfileFixtures.readContinuously(
            checker,
            () -> nodes.stream().map(BackboneNode::httpPort).toList(),
            oracle.profiles().keySet())) {
      nodes.get(1).close();
      ProfileFixtures.produce(
          kafka, pipeline.settings().inputTopic(), events.subList(half, events.size()));
      nodes.set(
          1, ProfileFixtures.startNode(pipeline, kafka, stateRoot, 1, "rack-" + (char) ('a' + 1)));

      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> ProfileFixtures.assertEveryProfileThroughEveryNode(nodes, oracle, checker));
      assertThat(reads.completed()).isPositive();
    }
    checker.assertNoViolations();

    List<ConsumerRecord<String, String>> dlq =
        kafka.readAllStrings(pipeline.settings().dlqTopic(), Duration.ofSeconds(30));
    assertThat(dlq).hasSize((int) oracle.malformed());
    assertThat(dlq)
        .allSatisfy(r -> assertThat(r.headers().lastHeader("backbone.dlq.reason")).isNotNull());
  }
}
