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
  private final Map<String, Integer> subtopologyByStore;
  private final Map<String, Integer> subtopologyBySourceTopic;
  private final String applicationId;

  private TopologyIndex(
      Set<String> storeNames,
      Map<String, Integer> subtopologyByStore,
      Map<String, Integer> subtopologyBySourceTopic,
      String applicationId) {
    this.storeNames = Set.copyOf(storeNames);
    this.subtopologyByStore = Map.copyOf(subtopologyByStore);
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
    Map<String, Integer> storeSubtopologies = new HashMap<>();
    for (TopologyDescription.Subtopology sub : description.subtopologies()) {
      for (TopologyDescription.Node node : sub.nodes()) {
        if (node instanceof TopologyDescription.Processor p) {
          stores.addAll(p.stores());
          p.stores().forEach(store -> storeSubtopologies.put(store, sub.id()));
        } else if (node instanceof TopologyDescription.Source s && s.topicSet() != null) {
          s.topicSet().forEach(topic -> sources.put(topic, sub.id()));
        }
      }
    }
    for (TopologyDescription.GlobalStore global : description.globalStores()) {
      stores.addAll(global.processor().stores());
    }
    return new TopologyIndex(stores, storeSubtopologies, sources, applicationId);
  }

  /** The application id the topology runs under (its stage's, for its generation). */
  public String applicationId() {
    return applicationId;
  }

  /** Every state store name of the topology. */
  public Set<String> storeNames() {
    return storeNames;
  }

  /**
   * The subtopology whose tasks hold a store (the tasks are {@code <subtopology>_<partition>});
   * empty for a global store or an unknown one.
   */
  public java.util.OptionalInt subtopologyOf(String storeName) {
    Integer sub = subtopologyByStore.get(storeName);
    return sub == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(sub);
  }

  /**
   * A source topic of a subtopology (the first by name), as the topology describes it; the key
   * serializer of a store is called with it, as the producer of that topic was. Null if none.
   */
  public String sourceTopicOf(int subtopology) {
    return subtopologyBySourceTopic.entrySet().stream()
        .filter(e -> e.getValue() == subtopology)
        .map(Map.Entry::getKey)
        .sorted()
        .findFirst()
        .orElse(null);
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
