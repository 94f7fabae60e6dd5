package dev.backbone.assignment;

import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the last assignment computed in this JVM found, per Kafka Streams client, for the node's
 * meter registry to read: the assignor runs inside Kafka Streams on the group leader, created anew
 * for every rebalance, so its figures live here rather than in the assignor.
 */
public final class AssignmentMetrics {
  /**
   * Gauge name ({@code backbone_assignment_rack_violations} in Prometheus): tasks whose replicas
   * share a rack in the last assignment this client computed as group leader.
   */
  public static final String RACK_VIOLATIONS = "backbone.assignment.rack.violations";

  private static final Map<String, Integer> RACK_VIOLATIONS_BY_CLIENT = new ConcurrentHashMap<>();

  private AssignmentMetrics() {}

  /**
   * Rack violations of the last assignment computed by a client, if it ever led a rebalance.
   *
   * @param clientId the Kafka Streams {@code client.id} (or, without one, the {@code
   *     application.id})
   */
  public static OptionalInt rackViolations(String clientId) {
    Integer v = RACK_VIOLATIONS_BY_CLIENT.get(clientId);
    return v == null ? OptionalInt.empty() : OptionalInt.of(v);
  }

  static void recordRackViolations(String clientId, int violations) {
    RACK_VIOLATIONS_BY_CLIENT.put(clientId, violations);
  }
}
