package dev.backbone.rescale;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Whether a consumer group has processed every committed record of a topic: the drain step of a
 * rescale, which must know that no input of the old generation is left unprocessed before the state
 * is snapshotted and split.
 *
 * <p>What must hold: "drained" only if no committed record lies at or after the group's committed
 * offset of any partition. Comparing the committed offset with the end offset is not enough under
 * exactly-once: a transaction's commit marker takes an offset of its own, and a consumer that has
 * read a transaction's last record but not yet fetched the marker after it commits the offset of
 * the marker, one below the end (Kafka's consumer skips control batches only when it fetches them,
 * {@code CompletedFetch#nextFetchedRecord}, 4.4.0). So where the committed offset is below the end,
 * the gap is read with a {@code read_committed} consumer from the committed offset to the end:
 * drained only if it holds no record, only markers (or records of aborted transactions, which
 * {@code read_committed} never returns and the group will never process either).
 */
public final class Drain {
  private Drain() {}

  /**
   * Where a group stands on a topic.
   *
   * @param ends the end offset of each partition ({@code read_committed}: the last stable offset)
   * @param committed the group's committed offset of each partition (-1 if none)
   * @param unprocessed committed records at or after the committed offset, per partition
   */
  public record State(
      Map<Integer, Long> ends, Map<Integer, Long> committed, Map<Integer, Long> unprocessed) {
    /** Whether every committed record of the topic was processed. */
    public boolean drained() {
      return unprocessed.values().stream().allMatch(n -> n == 0);
    }

    /** Committed records not yet processed, over all partitions. */
    public long remaining() {
      return unprocessed.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /**
   * Reads where {@code groupId} stands on {@code topic}.
   *
   * @param bootstrapServers for the consumer that reads the gaps
   * @throws TimeoutException if the brokers do not answer within {@code timeout}
   */
  public static State check(
      Admin admin, String bootstrapServers, String groupId, String topic, Duration timeout)
      throws TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      int partitions =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(left(deadline), TimeUnit.NANOSECONDS)
              .get(topic)
              .partitions()
              .size();
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      Map<Integer, Long> ends =
          admin
              .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
              .all()
              .get(left(deadline), TimeUnit.NANOSECONDS)
              .entrySet()
              .stream()
              .collect(Collectors.toMap(e -> e.getKey().partition(), e -> e.getValue().offset()));
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin
              .listConsumerGroupOffsets(groupId)
              .partitionsToOffsetAndMetadata()
              .get(left(deadline), TimeUnit.NANOSECONDS);
      Map<Integer, Long> committed = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        OffsetAndMetadata o = offsets.get(new TopicPartition(topic, p));
        committed.put(p, o == null ? -1L : o.offset());
      }
      Map<Integer, Long> unprocessed = new HashMap<>();
      Map<Integer, Long> gaps = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        long end = ends.get(p);
        long from = Math.max(0, committed.get(p));
        if (from >= end) {
          unprocessed.put(p, 0L);
        } else {
          gaps.put(p, from);
        }
      }
      if (!gaps.isEmpty()) {
        unprocessed.putAll(recordsIn(bootstrapServers, topic, gaps, ends, deadline));
      }
      return new State(Map.copyOf(ends), Map.copyOf(committed), Map.copyOf(unprocessed));
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "cannot read where group " + groupId + " stands on topic " + topic + ": " + e.getCause(),
          e.getCause());
    }
  }

  /** Committed records from each gap's start to its end, read with {@code read_committed}. */
  private static Map<Integer, Long> recordsIn(
      String bootstrapServers,
      String topic,
      Map<Integer, Long> from,
      Map<Integer, Long> ends,
      long deadline)
      throws TimeoutException {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "backbone-drain-check");
    Map<Integer, Long> counts = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> assigned =
          from.keySet().stream().map(p -> new TopicPartition(topic, p)).toList();
      consumer.assign(assigned);
      assigned.forEach(tp -> consumer.seek(tp, from.get(tp.partition())));
      assigned.forEach(tp -> counts.put(tp.partition(), 0L));
      while (assigned.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp.partition()))) {
        if (System.nanoTime() > deadline) {
          throw new TimeoutException("reading the unprocessed part of " + topic + " took too long");
        }
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        records.forEach(
            r -> {
              if (r.offset() < ends.get(r.partition())) {
                counts.merge(r.partition(), 1L, Long::sum);
              }
            });
      }
    }
    return counts;
  }

  private static long left(long deadline) throws TimeoutException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new TimeoutException("the brokers did not answer in time");
    }
    return left;
  }
}
