package dev.backbone.cli;

import com.fasterxml.jackson.databind.util.RawValue;
import dev.backbone.assignment.RackAwareTaskAssignor;
import dev.backbone.config.BackboneConfig;
import dev.backbone.examples.profiles.CustomerProfile;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.CustomerProfileSerde;
import dev.backbone.server.BackboneNode;
import dev.backbone.server.EventTopic;
import dev.backbone.server.KeyedStateStage;
import dev.backbone.server.QueryableStore;
import dev.backbone.server.StreamsStage;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Builds a node that runs the customer-profile pipeline: the wiring shared by {@code node} and
 * {@code demo}.
 */
final class ProfileNodes {

  private ProfileNodes() {}

  /** Where and how one node runs. */
  record NodeSpec(
      String nodeId,
      String rack,
      String bootstrapServers,
      String httpHost,
      int httpPort,
      Path stateDir,
      int standbys,
      int threads) {}

  static BackboneNode build(CustomerProfilePipeline pipeline, NodeSpec spec) {
    return build(pipeline, spec, new Properties());
  }

  /**
   * As {@link #build(CustomerProfilePipeline, NodeSpec)}, with Kafka Streams settings on top for
   * both stages (tests use it for a short {@code session.timeout.ms}).
   */
  static BackboneNode build(CustomerProfilePipeline pipeline, NodeSpec spec, Properties extra) {
    Properties base = new Properties();
    base.putAll(extra);
    base.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, spec.bootstrapServers());
    base.put(StreamsConfig.STATE_DIR_CONFIG, spec.stateDir().toAbsolutePath().toString());
    base.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, spec.standbys());
    base.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, spec.threads());
    // Both stages: the rack rule matters for the stateful state stage; the stateless ingest stage
    // gets the same thread-proportional balance.
    base.put(StreamsConfig.TASK_ASSIGNOR_CLASS_CONFIG, RackAwareTaskAssignor.class.getName());
    if (spec.rack() != null && !spec.rack().isBlank()) {
      base.put(CommonClientConfigs.CLIENT_RACK_CONFIG, spec.rack());
    }

    Properties nodeProps = new Properties();
    nodeProps.putAll(base);
    nodeProps.put(BackboneConfig.NODE_ID_CONFIG, spec.nodeId());
    nodeProps.put(BackboneConfig.HTTP_HOST_CONFIG, spec.httpHost());
    nodeProps.put(BackboneConfig.HTTP_PORT_CONFIG, spec.httpPort());

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // The state stage is keyed state, so `backbone rescale` can change its task count; the ingest
    // stage feeds it through its sink, which names the generation this node runs.
    KeyedStateStage state =
        KeyedStateStage.of(
            "state",
            pipeline.stateApplicationId(),
            "ingest",
            pipeline::stateTopology,
            withClientId(pipeline.stateProperties(base), spec.nodeId() + "-state"));
    return BackboneNode.builder()
        .properties(nodeProps)
        .meterRegistry(registry)
        .stage(
            new StreamsStage(
                "ingest",
                pipeline.ingestTopology(registry, state.sink()),
                withClientId(pipeline.ingestProperties(base), spec.nodeId() + "-ingest")))
        .keyedState(state)
        .eventTopic(EventTopic.keyedBy(pipeline.settings().inputTopic(), "customerId"))
        .queryableStore(
            new QueryableStore<String, CustomerProfile>(
                    CustomerProfilePipeline.PROFILE_STORE,
                    "state",
                    ProfileNodes::parseCustomerId,
                    Serdes.String().serializer(),
                    ProfileNodes::profileJson)
                .withBinaryValues(CustomerProfileSerde::toJson)
                .withStoredJsonValues())
        .build();
  }

  private static Properties withClientId(Properties props, String clientId) {
    props.put(StreamsConfig.CLIENT_ID_CONFIG, clientId);
    return props;
  }

  /**
   * The profile's documented JSON (counts by type, orders, totalSpend, ...), as served: the serde's
   * own JSON text, written into the answer as it is (no parse into a tree and back per read).
   */
  static RawValue profileJson(CustomerProfile profile) {
    return new RawValue(new String(CustomerProfileSerde.toJson(profile), StandardCharsets.UTF_8));
  }

  static String parseCustomerId(String key) {
    if (key.isBlank()) {
      throw new IllegalArgumentException("a customer id must not be blank");
    }
    return key;
  }
}
