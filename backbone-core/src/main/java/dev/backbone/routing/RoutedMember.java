package dev.backbone.routing;

import java.util.Objects;
import java.util.UUID;

/**
 * One entry of a routing table's process-id dictionary: a Kafka Streams instance of the group and
 * the Backbone node it belongs to.
 *
 * @param processId the Kafka Streams process id of the instance
 * @param nodeId the Backbone node id, from the instance's {@value RoutingTopics#NODE_ID_TAG} client
 *     tag; the process id's text when the instance did not announce one
 * @param rack the instance's {@code client.rack}, or empty
 */
public record RoutedMember(UUID processId, String nodeId, String rack) {
  /** Checks the arguments. */
  public RoutedMember {
    Objects.requireNonNull(processId, "processId");
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(rack, "rack");
  }
}
