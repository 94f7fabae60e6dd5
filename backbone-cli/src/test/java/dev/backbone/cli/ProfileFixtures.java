package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.client.BackboneClient;
import dev.backbone.client.BackboneClientException;
import dev.backbone.client.KeyResult;
import dev.backbone.client.ReadOptions;
import dev.backbone.examples.load.LoadGenerator;
import dev.backbone.examples.load.LoadSpec;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.BackboneNode;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
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

  /**
   * Waits until both stages committed every event produced so far: the ingest stage up to the end
   * of the input topic, then the state stage up to the end of the keyed-events topic (read after
   * that, so it holds every event ingest wrote). From then on every customer with a valid event
   * among them must exist.
   */
  /**
   * Produces events, waits until the pipeline committed them all, and tells the checker that every
   * customer they name must exist from now on.
   */
  static void produceCommitted(
      TestKafkaCluster kafka,
      CustomerProfilePipeline pipeline,
      List<Map.Entry<String, String>> events,
      ReadChecker<JsonNode> checker) {
    produce(kafka, pipeline.settings().inputTopic(), events);
    awaitCommitted(kafka, pipeline);
    ProfileOracle produced = new ProfileOracle();
    events.forEach(e -> produced.accept(e.getValue()));
    produced.profiles().keySet().forEach(checker::mustExist);
  }

  static void awaitCommitted(TestKafkaCluster kafka, CustomerProfilePipeline pipeline) {
    await("both stages committed every event")
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                kafka.hasCommittedToEnd(
                        pipeline.ingestApplicationId(), pipeline.settings().inputTopic())
                    && kafka.hasCommittedToEnd(
                        pipeline.stateApplicationId(), pipeline.keyedEventsTopic()));
  }

  /**
   * A profile pipeline under exactly-once for a new application {@code <prefix>-...}, its topics
   * created.
   */
  static CustomerProfilePipeline exactlyOncePipeline(
      TestKafkaCluster kafka, String prefix, int partitions) {
    String appId = kafka.uniqueName(prefix);
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(
            new PipelineSettings(
                appId,
                appId + "-events",
                appId + "-dlq",
                partitions,
                (short) 1,
                "exactly_once_v2"));
    pipeline.createTopics(kafka.admin());
    return pipeline;
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
    return startNode(pipeline, kafka, stateRoot, i, rack, 1, extra);
  }

  /** As {@link #startNode}, with {@code standbys} standby replicas and extra settings. */
  static BackboneNode startNode(
      CustomerProfilePipeline pipeline,
      TestKafkaCluster kafka,
      Path stateRoot,
      int i,
      String rack,
      int standbys,
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
                standbys,
                1),
            extra);
    node.start();
    return node;
  }

  /**
   * Every profile the oracle knows, read over HTTP through every live (non-null) node; each answer
   * is also recorded in the checker, so an answer that is wrong on the way fails the test even if a
   * later attempt succeeds.
   */
  static void assertEveryProfileThroughEveryNode(
      List<BackboneNode> nodes, ProfileOracle oracle, ReadChecker<JsonNode> checker) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    nodes.stream().filter(n -> n != null).forEach(n -> ports.put(n.nodeId(), n.httpPort()));
    assertEveryProfileThroughEveryNode(ports, oracle, checker);
  }

  /**
   * Every profile the oracle knows, read over HTTP through every node (node id to HTTP port); each
   * answer is also recorded in the checker.
   */
  static void assertEveryProfileThroughEveryNode(
      Map<String, Integer> ports, ProfileOracle oracle, ReadChecker<JsonNode> checker) {
    for (Map.Entry<String, Integer> node : ports.entrySet()) {
      for (var expected : oracle.profiles().entrySet()) {
        ReadChecker<JsonNode>.Read read =
            checker.begin("settle-via-" + node.getKey(), expected.getKey());
        ReadChecker.Answer<JsonNode> answer =
            HttpJson.keyRead(node.getValue(), keyPath(expected.getKey()));
        read.end(answer);
        assertThat(answer)
            .as("%s via %s", expected.getKey(), node.getKey())
            .isInstanceOf(ReadChecker.Answer.Value.class);
        assertThat(ProfileOracle.describe(((ReadChecker.Answer.Value<JsonNode>) answer).value()))
            .as("%s via %s", expected.getKey(), node.getKey())
            .isEqualTo(ProfileOracle.describe(expected.getValue()));
      }
    }
  }

  /**
   * Readers that read the customers' profiles without pause through the nodes {@code ports} names
   * at each read (so they follow nodes that restart), every answer recorded in the checker.
   */
  static ContinuousReads readContinuously(
      ReadChecker<JsonNode> checker, Supplier<List<Integer>> ports, Collection<String> customers) {
    return ContinuousReads.start(
        checker,
        2,
        List.copyOf(customers),
        (client, customer) -> {
          List<Integer> live = ports.get();
          int port = live.get(ThreadLocalRandom.current().nextInt(live.size()));
          return HttpJson.keyRead(port, keyPath(customer));
        });
  }

  /**
   * As {@link #readContinuously}, with two more readers: one asks with {@code staleOk=true} (a
   * standby may answer, marked stale), one reads through the Java client, which goes straight to
   * each key's owner by its routing table and retries 503s itself. Every answer of all four is
   * checked.
   */
  static Readers readContinuouslyWithStaleAndClient(
      ReadChecker<JsonNode> checker, Supplier<List<Integer>> ports, Collection<String> customers) {
    BackboneClient client =
        BackboneClient.builder()
            .bootstrap(
                ports.get().stream().map(p -> "http://127.0.0.1:" + p).toArray(String[]::new))
            .retries(3, Duration.ofMillis(50))
            .build();
    ContinuousReads reads =
        ContinuousReads.start(
            checker,
            4,
            List.copyOf(customers),
            (reader, customer) -> {
              if (reader == 3) {
                return clientRead(client, customer);
              }
              List<Integer> live = ports.get();
              int port = live.get(ThreadLocalRandom.current().nextInt(live.size()));
              return HttpJson.keyRead(
                  port, keyPath(customer) + (reader == 2 ? "?staleOk=true" : ""));
            });
    return new Readers(reads, client);
  }

  private static ReadChecker.Answer<JsonNode> clientRead(BackboneClient client, String customer) {
    try {
      KeyResult result =
          client.get(CustomerProfilePipeline.PROFILE_STORE, customer, ReadOptions.DEFAULT);
      boolean stale = result.stale().orElse(false);
      return result.value().isPresent()
          ? new ReadChecker.Answer.Value<>(result.value().get(), stale)
          : new ReadChecker.Answer.NotFound<>(stale);
    } catch (BackboneClientException e) {
      return e.isRetriable()
          ? new ReadChecker.Answer.Retry<>(e.code())
          : new ReadChecker.Answer.Unexpected<>(
              e.status() + " " + e.code() + ": " + e.getMessage());
    }
  }

  /**
   * Readers and the Java client they share; closing stops the readers, then the client.
   *
   * @param reads the reader threads
   * @param client the client reader 3 uses
   */
  record Readers(ContinuousReads reads, BackboneClient client) implements AutoCloseable {
    long completed() {
      return reads.completed();
    }

    @Override
    public void close() {
      try {
        reads.close();
      } finally {
        client.close();
      }
    }
  }

  /** The HTTP path of a customer's profile. */
  static String keyPath(String customerId) {
    return "/v1/stores/" + CustomerProfilePipeline.PROFILE_STORE + "/keys/" + customerId;
  }
}
