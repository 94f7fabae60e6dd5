package dev.backbone.routing;

import java.util.Objects;

/**
 * What a node announces about itself on the members topic when it starts and when it stops.
 *
 * @param nodeId the node id ({@code backbone.node.id}), the record key
 * @param rack the node's {@code client.rack}, or empty
 * @param endpoint where the node serves HTTP, {@code host:port}
 * @param state {@link MemberState#UP} or {@link MemberState#LEFT}
 * @param updatedMs when the node wrote the record (epoch ms)
 */
public record Member(
    String nodeId, String rack, String endpoint, MemberState state, long updatedMs) {
  /** Checks the arguments. */
  public Member {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(rack, "rack");
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(state, "state");
    if (nodeId.isBlank()) {
      throw new IllegalArgumentException("a member needs a node id");
    }
  }

  /** The same member in another state, at another time. */
  public Member withState(MemberState newState, long atMs) {
    return new Member(nodeId, rack, endpoint, newState, atMs);
  }
}
