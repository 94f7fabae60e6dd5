package dev.backbone.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.examples.profiles.CustomerProfile;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.CustomerProfileSerde;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.routing.RoutedMember;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingTable;
import dev.backbone.routing.TaskRoute;
import dev.backbone.testkit.TestKafkaCluster;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;

/** Builds Backbone nodes that run the customer-profile pipeline, as the CLI will. */
final class ProfileNodes {
  static final String INGEST = "ingest";
  static final String STATE = "state";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ProfileNodes() {}

  /**
   * Pipeline settings whose application id and topics no other test class uses, with the pipeline's
   * topics created.
   */
  static PipelineSettings createPipeline(TestKafkaCluster kafka, String prefix, int partitions) {
    return createPipeline(kafka, prefix, partitions, StreamsConfig.AT_LEAST_ONCE);
  }

  /** As {@link #createPipeline(TestKafkaCluster, String, int)}, with a processing guarantee. */
  static PipelineSettings createPipeline(
      TestKafkaCluster kafka, String prefix, int partitions, String guarantee) {
    PipelineSettings settings =
        new PipelineSettings(
            kafka.uniqueName(prefix),
            kafka.uniqueName(prefix + "-events"),
            kafka.uniqueName(prefix + "-dlq"),
            partitions,
            (short) 1,
            guarantee);
    new CustomerProfilePipeline(settings).createTopics(kafka.admin());
    return settings;
  }

  /** A node with both stages of the pipeline and its profile store, on a free HTTP port. */
  static BackboneNode node(
      TestKafkaCluster kafka, PipelineSettings settings, String nodeId, Path stateDir) {
    return node(kafka, settings, nodeId, stateDir, new Properties());
  }

  /** As {@link #node(TestKafkaCluster, PipelineSettings, String, Path)}, with extra node props. */
  static BackboneNode node(
      TestKafkaCluster kafka,
      PipelineSettings settings,
      String nodeId,
      Path stateDir,
      Properties extra) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CustomerProfilePipeline pipeline = new CustomerProfilePipeline(settings);
    Properties nodeProps = nodeProperties(kafka, nodeId, stateDir, extra);
    // Stages get bootstrap.servers, state.dir, ... from the node; their own settings on top.
    Properties base = new Properties();
    base.setProperty(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    return BackboneNode.builder()
        .properties(nodeProps)
        .meterRegistry(registry)
        .stage(
            new StreamsStage(
                INGEST, pipeline.ingestTopology(registry), pipeline.ingestProperties(base)))
        .stage(new StreamsStage(STATE, pipeline.stateTopology(), pipeline.stateProperties(base)))
        .eventTopic(EventTopic.keyedBy(pipeline.settings().inputTopic(), "customerId"))
        .queryableStore(profileStore())
        .build();
  }

  private static Properties nodeProperties(
      TestKafkaCluster kafka, String nodeId, Path stateDir, Properties extra) {
    Properties nodeProps = kafka.clientProperties();
    nodeProps.setProperty("backbone.node.id", nodeId);
    nodeProps.setProperty("backbone.http.port", "0");
    nodeProps.setProperty("backbone.http.forward.timeout.ms", "3000");
    nodeProps.setProperty(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    nodeProps.setProperty(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    nodeProps.setProperty(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
    nodeProps.putAll(extra);
    return nodeProps;
  }

  private static QueryableStore<String, CustomerProfile> profileStore() {
    return new QueryableStore<String, CustomerProfile>(
            CustomerProfilePipeline.PROFILE_STORE,
            STATE,
            Function.identity(),
            new StringSerializer(),
            ProfileNodes::toJson)
        .withBinaryValues(CustomerProfileSerde::toJson)
        .withStoredJsonValues();
  }

  /**
   * A node whose state stage is a {@link KeyedStateStage} (a rescale can move it), fed by the
   * ingest stage through the stage's sink; otherwise as {@link #node}.
   */
  static BackboneNode keyedNode(
      TestKafkaCluster kafka,
      PipelineSettings settings,
      String nodeId,
      Path stateDir,
      Properties extra) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CustomerProfilePipeline pipeline = new CustomerProfilePipeline(settings);
    Properties nodeProps = nodeProperties(kafka, nodeId, stateDir, extra);
    Properties base = new Properties();
    base.setProperty(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    KeyedStateStage state =
        KeyedStateStage.of(
            STATE,
            pipeline.stateApplicationId(),
            INGEST,
            pipeline::stateTopology,
            pipeline.stateProperties(base));
    return BackboneNode.builder()
        .properties(nodeProps)
        .meterRegistry(registry)
        .stage(
            new StreamsStage(
                INGEST,
                pipeline.ingestTopology(registry, state.sink()),
                pipeline.ingestProperties(base)))
        .keyedState(state)
        .eventTopic(EventTopic.keyedBy(pipeline.settings().inputTopic(), "customerId"))
        .queryableStore(profileStore())
        .build();
  }

  /**
   * Pins a node's routing view of the state stage to a table one generation older than its current
   * one that names {@code ownerId} the active of every task, with no standbys: the node then sends
   * every read there (and, if it is the owner named, reads every partition locally). Undo with
   * {@code node.routing(STATE).unpin()}.
   */
  static void pinEveryTaskOn(BackboneNode node, String ownerId) {
    RoutingCache cache = node.routing(STATE);
    RoutingTable current = cache.table();
    UUID owner =
        current.members().stream()
            .filter(m -> m.nodeId().equals(ownerId))
            .map(RoutedMember::processId)
            .findFirst()
            .orElseThrow();
    cache.pin(
        new RoutingTable(
            current.applicationId(),
            current.generation() - 1,
            current.createdMs(),
            current.members(),
            current.tasks().stream()
                .map(r -> new TaskRoute(r.task(), Optional.of(owner), List.of()))
                .toList()));
  }

  /** A profile as the pipeline's own JSON. */
  static JsonNode toJson(CustomerProfile profile) {
    try {
      return MAPPER.readTree(CustomerProfileSerde.toJson(profile));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends raw event values keyed by customer id and waits until the broker has them. */
  static void send(TestKafkaCluster kafka, String topic, List<String[]> keyAndValue) {
    try (KafkaProducer<String, String> producer =
        kafka.producer(new StringSerializer(), new StringSerializer())) {
      for (String[] record : keyAndValue) {
        producer.send(new ProducerRecord<>(topic, record[0], record[1]));
      }
      producer.flush();
    }
  }

  /** One shop event as JSON. */
  static String event(String customerId, String type, String sku, String amount) {
    return "{\"customerId\":\""
        + customerId
        + "\",\"type\":\""
        + type
        + "\",\"ts\":1732500000000,\"sku\":\""
        + sku
        + "\",\"amount\":"
        + amount
        + "}";
  }
}
