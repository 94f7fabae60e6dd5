package dev.backbone.routing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The latest record of every node that ever announced itself, by node id; immutable. A node that
 * left stays, in state {@link MemberState#LEFT}, so that a late routing table that still names it
 * resolves to "left" rather than to nothing.
 */
public final class Membership {
  private static final Membership EMPTY = new Membership(Map.of());

  private final Map<String, Member> byNodeId;

  private Membership(Map<String, Member> byNodeId) {
    this.byNodeId = Collections.unmodifiableMap(new TreeMap<>(byNodeId));
  }

  /** No node known. */
  public static Membership empty() {
    return EMPTY;
  }

  /** This membership with a node's newer record: a join, an update, or a leave. */
  public Membership with(Member member) {
    Objects.requireNonNull(member, "member");
    Member current = byNodeId.get(member.nodeId());
    if (current != null && current.updatedMs() > member.updatedMs()) {
      return this;
    }
    Map<String, Member> next = new TreeMap<>(byNodeId);
    next.put(member.nodeId(), member);
    return new Membership(next);
  }

  /** The record of a node. */
  public Optional<Member> member(String nodeId) {
    return Optional.ofNullable(byNodeId.get(nodeId));
  }

  /** Every known node, by node id. */
  public List<Member> members() {
    return List.copyOf(byNodeId.values());
  }

  /** The nodes in state {@link MemberState#UP}, by node id. */
  public List<Member> upMembers() {
    return byNodeId.values().stream().filter(m -> m.state() == MemberState.UP).toList();
  }

  /**
   * Every process of a routing table joined with its node's record: process id to node id, rack,
   * HTTP endpoint and state. A process whose node never announced itself is {@link
   * MemberState#UNKNOWN} with no endpoint.
   */
  public List<ResolvedMember> resolve(RoutingTable table) {
    List<ResolvedMember> resolved = new ArrayList<>();
    for (RoutedMember m : table.members()) {
      resolved.add(resolve(m));
    }
    return resolved;
  }

  /** One process of a routing table joined with its node's record. */
  public ResolvedMember resolve(RoutedMember routed) {
    Member member = byNodeId.get(routed.nodeId());
    if (member == null) {
      return new ResolvedMember(
          routed.processId(),
          routed.nodeId(),
          routed.rack(),
          Optional.empty(),
          MemberState.UNKNOWN);
    }
    String rack = routed.rack().isEmpty() ? member.rack() : routed.rack();
    return new ResolvedMember(
        routed.processId(), routed.nodeId(), rack, Optional.of(member.endpoint()), member.state());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Membership other && other.byNodeId.equals(byNodeId);
  }

  @Override
  public int hashCode() {
    return byNodeId.hashCode();
  }

  @Override
  public String toString() {
    return "Membership" + byNodeId.values();
  }

  /**
   * A process of the group as routing sees it.
   *
   * @param processId its Kafka Streams process id
   * @param nodeId its node id
   * @param rack its rack, or empty
   * @param endpoint its node's HTTP endpoint {@code host:port}, if the node announced one
   * @param state its node's state
   */
  public record ResolvedMember(
      UUID processId, String nodeId, String rack, Optional<String> endpoint, MemberState state) {}
}
