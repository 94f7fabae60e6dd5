package dev.backbone.server.internals;

import dev.backbone.config.BackboneConfig;
import dev.backbone.server.StreamsStage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;

/**
 * The Kafka Streams settings a stage actually runs with.
 *
 * <p>Node properties that are not {@code backbone.*} settings are defaults for every stage (so
 * {@code bootstrap.servers} or {@code state.dir} are given once per node); a stage's own value
 * wins, except for two settings that describe the node, not the stage: {@code client.rack} (a node
 * sits in one rack, and rack-aware placement is only sound if every stage agrees) and {@code
 * application.server} (it must be this node's HTTP endpoint or forwarding sends reads to the wrong
 * place). A stage that sets either differently is refused rather than silently overridden.
 */
public final class StageProperties {
  private StageProperties() {}

  /**
   * Problems with a stage's settings before the node starts; empty when it may run.
   *
   * @param nodeProperties the node's properties
   * @param stage the stage
   */
  public static List<String> problems(Properties nodeProperties, StreamsStage stage) {
    List<String> problems = new ArrayList<>();
    Properties own = stage.streamsProperties();
    Object nodeRack = nodeProperties.get(CommonClientConfigs.CLIENT_RACK_CONFIG);
    Object stageRack = own.get(CommonClientConfigs.CLIENT_RACK_CONFIG);
    if (stageRack != null && nodeRack != null && !Objects.equals(stageRack, nodeRack)) {
      problems.add(
          "stage '"
              + stage.name()
              + "' sets client.rack="
              + stageRack
              + " but the node is in rack "
              + nodeRack
              + "; set client.rack once, in the node properties");
    }
    for (Properties source : List.of(nodeProperties, own)) {
      if (source.containsKey(StreamsConfig.APPLICATION_SERVER_CONFIG)) {
        problems.add(
            "stage '"
                + stage.name()
                + "': application.server is set by the node from "
                + BackboneConfig.HTTP_ADVERTISED_HOST_CONFIG
                + " and the HTTP port; remove it");
        break;
      }
    }
    if (applicationId(nodeProperties, stage).isEmpty()) {
      problems.add("stage '" + stage.name() + "' has no application.id; set it in its properties");
    }
    return problems;
  }

  /** The stage's {@code application.id}, from its own properties or the node's. */
  public static Optional<String> applicationId(Properties nodeProperties, StreamsStage stage) {
    Object id = stage.streamsProperties().get(StreamsConfig.APPLICATION_ID_CONFIG);
    if (id == null) {
      id = nodeProperties.get(StreamsConfig.APPLICATION_ID_CONFIG);
    }
    return id == null || id.toString().isBlank() ? Optional.empty() : Optional.of(id.toString());
  }

  /**
   * The settings to start the stage with.
   *
   * @param nodeProperties the node's properties ({@code backbone.*} settings are left out)
   * @param stage the stage
   * @param applicationServer this node's HTTP endpoint if the stage holds a queryable store
   */
  public static Properties resolve(
      Properties nodeProperties, StreamsStage stage, Optional<HostInfo> applicationServer) {
    Properties resolved = new Properties();
    for (Map.Entry<Object, Object> e : nodeProperties.entrySet()) {
      if (!String.valueOf(e.getKey()).startsWith(BackboneConfig.PREFIX)) {
        resolved.put(e.getKey(), e.getValue());
      }
    }
    resolved.putAll(stage.streamsProperties());
    Object rack = nodeProperties.get(CommonClientConfigs.CLIENT_RACK_CONFIG);
    if (rack != null) {
      resolved.put(CommonClientConfigs.CLIENT_RACK_CONFIG, rack);
    }
    applicationServer.ifPresent(
        host ->
            resolved.put(StreamsConfig.APPLICATION_SERVER_CONFIG, host.host() + ":" + host.port()));
    return resolved;
  }
}
