package dev.backbone.testkit;

import dev.backbone.kafka.embedded.BrokerDefaults;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a test asks of its cluster, and the key under which one cluster is shared: two test classes
 * share a cluster exactly when their shapes are equal.
 *
 * @param brokers how many brokers
 * @param racks the rack of each broker, or empty for none
 */
record ClusterShape(int brokers, List<String> racks) {
  /** The node that is both the first broker and the only controller. */
  static final int CONTROLLER_NODE_ID = 0;

  ClusterShape {
    if (brokers < 1) {
      throw new IllegalArgumentException(
          "@BackboneKafkaCluster(brokers = " + brokers + ") needs at least one broker");
    }
    racks = List.copyOf(racks);
    if (!racks.isEmpty() && racks.size() != brokers) {
      throw new IllegalArgumentException(
          "@BackboneKafkaCluster(brokers = "
              + brokers
              + ") declares "
              + racks.size()
              + " racks "
              + racks
              + "; give exactly one rack per broker, or none");
    }
    if (racks.stream().anyMatch(String::isBlank)) {
      throw new IllegalArgumentException("@BackboneKafkaCluster racks must not be blank: " + racks);
    }
  }

  static ClusterShape of(BackboneKafkaCluster annotation) {
    return new ClusterShape(annotation.brokers(), List.of(annotation.racks()));
  }

  /** The shape of a class that uses the extension without the annotation: one broker, no rack. */
  static ClusterShape defaultShape() {
    return new ClusterShape(1, List.of());
  }

  /** Replicas for internal and default topics: as many as brokers, but no more than three. */
  int replicationFactor() {
    return BrokerDefaults.replicationFactor(brokers);
  }

  /**
   * Settings of every broker: Backbone's {@link BrokerDefaults} for this many brokers, plus what
   * makes a test cluster quick to use and faithful to production.
   */
  Map<String, String> brokerSettings() {
    Map<String, String> settings = new HashMap<>(BrokerDefaults.forBrokers(brokers));
    // Fewer internal partitions make the first consumer group and the first transaction
    // noticeably faster to set up; the count has no effect on semantics.
    settings.put("offsets.topic.num.partitions", "5");
    settings.put("transaction.state.log.num.partitions", "5");
    // KafkaClusterTestKit turns unstable versions on for Kafka's own tests; Backbone tests run
    // against what a production 4.3 broker offers.
    settings.put("unstable.api.versions.enable", "false");
    settings.put("unstable.feature.versions.enable", "false");
    // Bounded changelogs are tested with retentions of seconds. A compact,delete log's old segments
    // are deleted by the log cleaner's thread (LogCleaner.CleanerThread#cleanFilthiestLog ->
    // LogCleanerManager#deletableLogs), which sleeps log.cleaner.backoff.ms (15 s) when idle; a
    // delete-only log's by the retention check (log.retention.check.interval.ms, 5 min). Both run
    // every second here; topics without a time retention of their own are not affected.
    settings.put("log.cleaner.backoff.ms", "1000");
    settings.put("log.retention.check.interval.ms", "1000");
    return settings;
  }

  /**
   * Per-node settings keyed by node id (KafkaClusterTestKit numbers brokers from 0, and node 0 is
   * the combined broker and controller): each broker's rack, and on the controller the replication
   * factor of topics created without one. In KRaft the controller applies that default, and Kafka
   * warns when a broker-only node sets it.
   */
  Map<Integer, Map<String, String>> perNodeSettings() {
    Map<Integer, Map<String, String>> perNode = new HashMap<>();
    for (int node = 0; node < brokers; node++) {
      Map<String, String> settings = new HashMap<>();
      if (!racks.isEmpty()) {
        settings.put("broker.rack", racks.get(node));
      }
      if (node == CONTROLLER_NODE_ID) {
        settings.put("default.replication.factor", Integer.toString(replicationFactor()));
      }
      perNode.put(node, Map.copyOf(settings));
    }
    return perNode;
  }
}
