package dev.backbone.bench.assignor.stock;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.internals.InternalTopicManager;

/**
 * The one question stock's rack-aware optimizer asks an {@code InternalTopicManager} — where the
 * changelog partitions' replicas are ({@code getTopicPartitionInfo}) — answered from a fixed map
 * instead of an admin client. The constructor only reads settings from the {@code StreamsConfig}
 * and keeps the (absent) admin client; nothing else of the manager is called in an assignment.
 */
final class StaticTopicDescriptions extends InternalTopicManager {
  private final Map<String, List<TopicPartitionInfo>> topics;

  StaticTopicDescriptions(Map<String, List<TopicPartitionInfo>> topics) {
    super(
        Time.SYSTEM,
        null,
        new StreamsConfig(
            Map.of(
                StreamsConfig.APPLICATION_ID_CONFIG,
                "stock-comparison",
                StreamsConfig.BOOTSTRAP_SERVERS_CONFIG,
                "unused:9092")));
    this.topics = Map.copyOf(topics);
  }

  @Override
  public Map<String, List<TopicPartitionInfo>> getTopicPartitionInfo(Set<String> names) {
    Map<String, List<TopicPartitionInfo>> answer = new TreeMap<>();
    for (String name : names) {
      List<TopicPartitionInfo> partitions = topics.get(name);
      if (partitions != null) {
        answer.put(name, partitions);
      }
    }
    return answer;
  }
}
