package dev.backbone.server.internals;

import dev.backbone.config.BackboneConfig;
import dev.backbone.routing.RoutingPublisher;
import dev.backbone.routing.RoutingPublishingTaskAssignor;
import dev.backbone.routing.RoutingTopics;
import dev.backbone.server.StreamsStage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The Kafka Streams settings a stage actually runs with.
 *
 * <p>Node properties that are not {@code backbone.*} settings are defaults for every stage (so
 * {@code bootstrap.servers} or {@code state.dir} are given once per node); a stage's own value
 * wins, except for {@code client.rack}, which describes the node, not the stage (a node sits in one
 * rack, and rack-aware placement is only sound if every stage agrees): a stage that sets it
 * differently is refused rather than silently overridden.
 *
 * <p>{@code application.server} is refused everywhere: with it, Kafka Streams copies every host's
 * partitions into every member's assignment (O(members x partitions)). A stage that holds a
 * queryable store gets Backbone's routing instead ({@link Routing}): {@link
 * RoutingPublishingTaskAssignor} as {@code task.assignor.class}, wrapping the configured delegate
 * (or the stage's own {@code task.assignor.class}), and the node id as client tag {@value
 * RoutingTopics#NODE_ID_TAG} so that the group leader can name the node of every process.
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
                + "': application.server would copy every host's partitions into every"
                + " member's assignment; Backbone publishes routing instead (see "
                + RoutingTopics.routingTopic("<application.id>")
                + "); remove it");
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
   * How a stage with a queryable store is routed.
   *
   * @param nodeId the node id, announced as client tag
   * @param delegateAssignorClass the assignor that computes assignments, unless the stage names its
   *     own {@code task.assignor.class}
   * @param publisher the node's publisher of this stage's routing
   */
  public record Routing(String nodeId, String delegateAssignorClass, RoutingPublisher publisher) {
    /** Checks the arguments. */
    public Routing {
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(delegateAssignorClass, "delegateAssignorClass");
      Objects.requireNonNull(publisher, "publisher");
    }
  }

  /**
   * The settings to start the stage with.
   *
   * @param nodeProperties the node's properties ({@code backbone.*} settings are left out)
   * @param stage the stage
   * @param routing the routing of a stage that holds a queryable store; empty for other stages
   */
  public static Properties resolve(
      Properties nodeProperties, StreamsStage stage, Optional<Routing> routing) {
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
    routing.ifPresent(
        r -> {
          Object own = resolved.get(StreamsConfig.TASK_ASSIGNOR_CLASS_CONFIG);
          String delegate =
              own == null || own.toString().equals(RoutingPublishingTaskAssignor.class.getName())
                  ? r.delegateAssignorClass()
                  : own instanceof Class<?> c ? c.getName() : own.toString();
          resolved.put(
              StreamsConfig.TASK_ASSIGNOR_CLASS_CONFIG,
              RoutingPublishingTaskAssignor.class.getName());
          resolved.put(BackboneConfig.ROUTING_DELEGATE_ASSIGNOR_CLASS_CONFIG, delegate);
          resolved.put(RoutingPublishingTaskAssignor.PUBLISHER_CONFIG, r.publisher());
          resolved.put(StreamsConfig.clientTagPrefix(RoutingTopics.NODE_ID_TAG), r.nodeId());
        });
    return resolved;
  }
}
