package dev.backbone.routing;

/** The state a node announces on the members topic. */
public enum MemberState {
  /** The node started and serves HTTP; its stages may still be restoring. */
  UP,
  /** The node stopped; it serves nothing. */
  LEFT,
  /** A process of the routing table with no membership record (not a Backbone node, or late). */
  UNKNOWN
}
