package dev.backbone.kafka.embedded;

import java.util.Map;

/**
 * Broker settings for the small clusters Backbone starts itself: the embedded single-node broker
 * and the test clusters of {@code backbone-test-kit}. One place, so tests run against the same
 * broker behaviour the demo does.
 */
public final class BrokerDefaults {
  private BrokerDefaults() {}

  /**
   * How many replicas internal and default topics get on a cluster of {@code brokers}: as many as
   * there are brokers, at most three.
   */
  public static int replicationFactor(int brokers) {
    if (brokers < 1) {
      throw new IllegalArgumentException("a cluster has at least one broker: " + brokers);
    }
    return Math.min(3, brokers);
  }

  /**
   * Settings for every broker of a cluster of {@code brokers}.
   *
   * <ul>
   *   <li>Internal topics (consumer offsets, transaction state, share-group state) replicate as far
   *       as the cluster allows: a topic asking for more replicas than brokers is never created,
   *       and every transaction or consumer group would hang waiting for it. From three brokers on
   *       they tolerate one lost replica (min ISR 2), as in production.
   *   <li>Consumer groups rebalance without Kafka's initial 3 s delay, which only waits for members
   *       that a small cluster's clients rarely have.
   *   <li>Topics are never auto-created: Backbone creates every topic it uses explicitly, so a
   *       misspelt name must fail rather than make a new topic.
   * </ul>
   *
   * The default replication factor of new topics is not included: in KRaft the controller applies
   * it, so it belongs only on controller nodes (see {@link #replicationFactor(int)}).
   */
  public static Map<String, String> forBrokers(int brokers) {
    String replicas = Integer.toString(replicationFactor(brokers));
    String minIsr = brokers >= 3 ? "2" : "1";
    return Map.of(
        "offsets.topic.replication.factor", replicas,
        "transaction.state.log.replication.factor", replicas,
        "transaction.state.log.min.isr", minIsr,
        "share.coordinator.state.topic.replication.factor", replicas,
        "share.coordinator.state.topic.min.isr", minIsr,
        "group.initial.rebalance.delay.ms", "0",
        "auto.create.topics.enable", "false");
  }
}
