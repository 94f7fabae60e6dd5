package dev.backbone.cli;

import dev.backbone.examples.load.LoadGenerator;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.server.BackboneNode;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;

/**
 * The demo's live status line: events produced and processed per second since the last line,
 * consumer lag of each stage, profiles held, DLQ size. Read from the broker (committed offsets
 * against read-committed end offsets), so it shows what is durable, not what is in flight.
 */
final class DemoStatus {
  private final Admin admin;
  private final CustomerProfilePipeline pipeline;
  private final List<BackboneNode> nodes;
  private final LoadGenerator load;
  private long lastNanos = System.nanoTime();
  private long lastSent;
  private long lastProcessed = -1;

  DemoStatus(
      Admin admin, CustomerProfilePipeline pipeline, List<BackboneNode> nodes, LoadGenerator load) {
    this.admin = admin;
    this.pipeline = pipeline;
    this.nodes = nodes;
    this.load = load;
  }

  synchronized String line() {
    long now = System.nanoTime();
    double seconds = Math.max(1e-3, (now - lastNanos) / 1e9);
    long sent = load.sentSoFar();
    String appId = pipeline.settings().applicationId();
    Progress ingest = progress(appId + "-ingest", pipeline.settings().inputTopic());
    Progress state = progress(appId, pipeline.keyedEventsTopic());
    long dlq = endOffsetSum(pipeline.settings().dlqTopic());
    long processed = state.committed();
    String processedRate =
        lastProcessed < 0 || processed < 0
            ? "-"
            : String.format("%.0f", (processed - lastProcessed) / seconds);
    String line =
        String.format(
            "produced %.0f/s  processed %s/s  lag ingest=%s state=%s  profiles=%s  dlq=%d",
            (sent - lastSent) / seconds,
            processedRate,
            ingest.lagText(),
            state.lagText(),
            profiles(),
            Math.max(dlq, 0));
    lastNanos = now;
    lastSent = sent;
    lastProcessed = processed;
    return line;
  }

  private record Progress(long committed, long lag) {
    String lagText() {
      return lag < 0 ? "?" : Long.toString(lag);
    }
  }

  private Progress progress(String groupId, String topic) {
    try {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .listConsumerGroupOffsets(groupId)
              .partitionsToOffsetAndMetadata()
              .get(5, TimeUnit.SECONDS);
      Map<TopicPartition, Long> ends = endOffsets(topic);
      long sum = 0;
      long lag = 0;
      for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
        OffsetAndMetadata c = committed.get(e.getKey());
        long offset = c == null ? 0 : c.offset();
        sum += offset;
        lag += Math.max(0, e.getValue() - offset);
      }
      return new Progress(sum, lag);
    } catch (Exception e) {
      return new Progress(-1, -1);
    }
  }

  private long endOffsetSum(String topic) {
    try {
      return endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
    } catch (Exception e) {
      return -1;
    }
  }

  private Map<TopicPartition, Long> endOffsets(String topic) throws Exception {
    var partitions =
        admin
            .describeTopics(List.of(topic))
            .allTopicNames()
            .get(5, TimeUnit.SECONDS)
            .get(topic)
            .partitions();
    Map<TopicPartition, OffsetSpec> request =
        partitions.stream()
            .collect(
                Collectors.toMap(
                    p -> new TopicPartition(topic, p.partition()), p -> OffsetSpec.latest()));
    return admin
        .listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
        .all()
        .get(5, TimeUnit.SECONDS)
        .entrySet()
        .stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
  }

  private String profiles() {
    long total = 0;
    for (BackboneNode node : nodes) {
      KafkaStreams streams = node.streams("state");
      if (streams == null || streams.state() != KafkaStreams.State.RUNNING) {
        return "?";
      }
      try {
        total +=
            streams
                .store(
                    StoreQueryParameters.fromNameAndType(
                        CustomerProfilePipeline.PROFILE_STORE, QueryableStoreTypes.keyValueStore()))
                .approximateNumEntries();
      } catch (RuntimeException e) {
        return "?";
      }
    }
    return "~" + total;
  }
}
