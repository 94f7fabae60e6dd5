package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.examples.load.LoadGenerator;
import dev.backbone.examples.load.LoadSpec;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.server.BackboneNode;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * What the customer-profile integration tests share: a known event set, nodes, the oracle check.
 */
final class ProfileFixtures {
  private ProfileFixtures() {}

  /** A deterministic event set (Zipf 0.5 over the customers), malformed ones included. */
  static List<Map.Entry<String, String>> knownEvents(
      String topic, int customers, long events, long seed, double badRatio) {
    LoadSpec spec = new LoadSpec(topic, 0, customers, 0.5, events, null, seed, badRatio);
    List<Map.Entry<String, String>> out = new ArrayList<>();
    new LoadGenerator()
        .events(spec)
        .forEachRemaining(r -> out.add(Map.entry(r.key() == null ? "" : r.key(), r.value())));
    return out;
  }

  /** Produces the events in order (an empty key stands for a null key) and flushes. */
  static void produce(
      TestKafkaCluster kafka, String topic, List<Map.Entry<String, String>> events) {
    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      for (Map.Entry<String, String> e : events) {
        producer.send(
            new ProducerRecord<>(topic, e.getKey().isEmpty() ? null : e.getKey(), e.getValue()));
      }
      producer.flush();
    }
  }

  /** Starts node {@code node-<i>} on the rack, wired as {@code backbone node} wires it. */
  static BackboneNode startNode(
      CustomerProfilePipeline pipeline,
      TestKafkaCluster kafka,
      Path stateRoot,
      int i,
      String rack) {
    return startNode(pipeline, kafka, stateRoot, i, rack, new Properties());
  }

  /** As {@link #startNode}, with extra Kafka Streams settings for both stages. */
  static BackboneNode startNode(
      CustomerProfilePipeline pipeline,
      TestKafkaCluster kafka,
      Path stateRoot,
      int i,
      String rack,
      Properties extra) {
    BackboneNode node =
        ProfileNodes.build(
            pipeline,
            new ProfileNodes.NodeSpec(
                "node-" + i,
                rack,
                kafka.bootstrapServers(),
                "127.0.0.1",
                0,
                stateRoot.resolve("node-" + i),
                1,
                1),
            extra);
    node.start();
    return node;
  }

  /** Every profile the oracle knows, read over HTTP through every live (non-null) node. */
  static void assertEveryProfileThroughEveryNode(List<BackboneNode> nodes, ProfileOracle oracle) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    nodes.stream().filter(n -> n != null).forEach(n -> ports.put(n.nodeId(), n.httpPort()));
    assertEveryProfileThroughEveryNode(ports, oracle);
  }

  /** Every profile the oracle knows, read over HTTP through every node (node id to HTTP port). */
  static void assertEveryProfileThroughEveryNode(Map<String, Integer> ports, ProfileOracle oracle) {
    for (Map.Entry<String, Integer> node : ports.entrySet()) {
      for (var expected : oracle.profiles().entrySet()) {
        HttpJson.Response r =
            HttpJson.get(
                node.getValue(),
                "/v1/stores/"
                    + CustomerProfilePipeline.PROFILE_STORE
                    + "/keys/"
                    + expected.getKey());
        assertThat(r.status())
            .as("%s via %s: %s", expected.getKey(), node.getKey(), r.body())
            .isEqualTo(200);
        assertThat(ProfileOracle.describe(r.body().get("value")))
            .as("%s via %s", expected.getKey(), node.getKey())
            .isEqualTo(ProfileOracle.describe(expected.getValue()));
      }
    }
  }
}
