package dev.backbone.server.internals;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;

/**
 * What a stage's topology holds: the names of its state stores, and which subtopology reads each
 * source topic, so that the source partitions Kafka Streams reports per host can be named as the
 * task ids operators know ({@code <subtopology>_<partition>}, the default partition grouping).
 */
public final class TopologyIndex {
  private final Set<String> storeNames;
  private final Map<String, Integer> subtopologyBySourceTopic;
  private final String applicationId;

  private TopologyIndex(
      Set<String> storeNames, Map<String, Integer> subtopologyBySourceTopic, String applicationId) {
    this.storeNames = Set.copyOf(storeNames);
    this.subtopologyBySourceTopic = Map.copyOf(subtopologyBySourceTopic);
    this.applicationId = applicationId;
  }

  /**
   * Indexes a topology.
   *
   * @param topology the stage's topology
   * @param applicationId the stage's application id, the prefix of its internal topics
   */
  public static TopologyIndex of(Topology topology, String applicationId) {
    TopologyDescription description = topology.describe();
    Set<String> stores = new TreeSet<>();
    Map<String, Integer> sources = new HashMap<>();
    for (TopologyDescription.Subtopology sub : description.subtopologies()) {
      for (TopologyDescription.Node node : sub.nodes()) {
        if (node instanceof TopologyDescription.Processor p) {
          stores.addAll(p.stores());
        } else if (node instanceof TopologyDescription.Source s && s.topicSet() != null) {
          s.topicSet().forEach(topic -> sources.put(topic, sub.id()));
        }
      }
    }
    for (TopologyDescription.GlobalStore global : description.globalStores()) {
      stores.addAll(global.processor().stores());
    }
    return new TopologyIndex(stores, sources, applicationId);
  }

  /** Every state store name of the topology. */
  public Set<String> storeNames() {
    return storeNames;
  }

  /**
   * The task ids that read these source partitions, sorted; a partition of a topic this topology
   * does not name (e.g. a pattern subscription) is shown as {@code topic-partition}.
   */
  public Set<String> taskIds(Collection<TopicPartition> sourcePartitions) {
    Set<String> tasks = new TreeSet<>();
    for (TopicPartition tp : sourcePartitions) {
      Integer sub = subtopologyBySourceTopic.get(tp.topic());
      if (sub == null && tp.topic().startsWith(applicationId + "-")) {
        // Internal (repartition) topics are described without the application-id prefix.
        sub = subtopologyBySourceTopic.get(tp.topic().substring(applicationId.length() + 1));
      }
      tasks.add(sub == null ? tp.toString() : sub + "_" + tp.partition());
    }
    return tasks;
  }
}
