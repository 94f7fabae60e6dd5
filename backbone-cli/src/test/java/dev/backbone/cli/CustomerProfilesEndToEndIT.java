package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.examples.load.LoadGenerator;
import dev.backbone.examples.load.LoadSpec;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.BackboneNode;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The customer-profile application end to end on a real broker, wired exactly as {@code backbone
 * node} wires it: a known event set with malformed events goes in, three nodes on three racks
 * process it while one of them restarts, and every profile read through every node equals an
 * independent oracle; the dead-letter topic holds exactly the malformed events.
 */
@BackboneKafkaCluster(brokers = 1)
class CustomerProfilesEndToEndIT {
  private static final int NODES = 3;
  private static final int CUSTOMERS = 60;
  private static final long EVENTS = 2_000;

  @TempDir Path stateRoot;
  private final List<BackboneNode> nodes = new ArrayList<>();

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
      nodes.add(startNode(pipeline, kafka, i));
    }

    List<Map.Entry<String, String>> events = knownEvents(pipeline.settings().inputTopic());
    ProfileOracle oracle = new ProfileOracle();
    events.forEach(e -> oracle.accept(e.getValue()));
    assertThat(oracle.malformed()).as("the event set must contain malformed events").isPositive();

    int half = events.size() / 2;
    produce(kafka, pipeline.settings().inputTopic(), events.subList(0, half));
    nodes.get(1).close();
    produce(kafka, pipeline.settings().inputTopic(), events.subList(half, events.size()));
    nodes.set(1, startNode(pipeline, kafka, 1));

    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(() -> assertEveryProfileThroughEveryNode(oracle));

    List<ConsumerRecord<String, String>> dlq =
        kafka.readAllStrings(pipeline.settings().dlqTopic(), Duration.ofSeconds(30));
    assertThat(dlq).hasSize((int) oracle.malformed());
    assertThat(dlq)
        .allSatisfy(r -> assertThat(r.headers().lastHeader("backbone.dlq.reason")).isNotNull());
  }

  private void assertEveryProfileThroughEveryNode(ProfileOracle oracle) {
    for (BackboneNode node : nodes) {
      for (var expected : oracle.profiles().entrySet()) {
        HttpJson.Response r =
            HttpJson.get(
                node.httpPort(),
                "/v1/stores/"
                    + CustomerProfilePipeline.PROFILE_STORE
                    + "/keys/"
                    + expected.getKey());
        assertThat(r.status())
            .as("%s via %s: %s", expected.getKey(), node.nodeId(), r.body())
            .isEqualTo(200);
        assertThat(ProfileOracle.describe(r.body().get("value")))
            .as("%s via %s", expected.getKey(), node.nodeId())
            .isEqualTo(ProfileOracle.describe(expected.getValue()));
      }
    }
  }

  private BackboneNode startNode(CustomerProfilePipeline pipeline, TestKafkaCluster kafka, int i) {
    BackboneNode node =
        ProfileNodes.build(
            pipeline,
            new ProfileNodes.NodeSpec(
                "node-" + i,
                "rack-" + (char) ('a' + i),
                kafka.bootstrapServers(),
                "127.0.0.1",
                0,
                stateRoot.resolve("node-" + i),
                1,
                1));
    node.start();
    return node;
  }

  private static List<Map.Entry<String, String>> knownEvents(String topic) {
    LoadSpec spec = new LoadSpec(topic, 0, CUSTOMERS, 0.5, EVENTS, null, 7L, 0.05);
    List<Map.Entry<String, String>> events = new ArrayList<>();
    new LoadGenerator()
        .events(spec)
        .forEachRemaining(r -> events.add(Map.entry(r.key() == null ? "" : r.key(), r.value())));
    return events;
  }

  private static void produce(
      TestKafkaCluster kafka, String topic, List<Map.Entry<String, String>> events) {
    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      for (Map.Entry<String, String> e : events) {
        producer.send(
            new ProducerRecord<>(topic, e.getKey().isEmpty() ? null : e.getKey(), e.getValue()));
      }
      producer.flush();
    }
  }
}
