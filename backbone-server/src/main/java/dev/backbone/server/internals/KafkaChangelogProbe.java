package dev.backbone.server.internals;

import dev.backbone.bootstrap.ChangelogProbe;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a node's changelogs for its {@link dev.backbone.bootstrap.SnapshotLender}: end offsets with
 * the node's admin client, and a range with a short-lived {@code read_committed} consumer built
 * from the stage's restore-consumer settings (so the same brokers and security), without a group.
 *
 * <p>{@code auto.offset.reset=none}: a range that starts below the log's start (retention deleted
 * it) fails instead of silently reading from elsewhere, and the lender then vouches for nothing.
 */
public final class KafkaChangelogProbe implements ChangelogProbe {
  private static final long ADMIN_TIMEOUT_MS = 10_000;

  private final Supplier<Admin> admin;
  private final Supplier<Map<String, Object>> consumerConfigs;

  /**
   * @param admin the node's admin client
   * @param consumerConfigs the stage's restore-consumer settings
   */
  public KafkaChangelogProbe(Supplier<Admin> admin, Supplier<Map<String, Object>> consumerConfigs) {
    this.admin = admin;
    this.consumerConfigs = consumerConfigs;
  }

  @Override
  public Map<TopicPartition, Long> endOffsets(Set<TopicPartition> partitions) {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
    try {
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> result =
          admin.get().listOffsets(latest).all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      Map<TopicPartition, Long> ends = new HashMap<>();
      result.forEach((tp, info) -> ends.put(tp, info.offset()));
      return ends;
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot read the end offsets of " + partitions + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException(e);
    }
  }

  @Override
  public OptionalLong lastRecordBetween(
      TopicPartition partition, long from, long to, Duration timeout) {
    Map<String, Object> configs = new HashMap<>(consumerConfigs.get());
    configs.remove(ConsumerConfig.GROUP_ID_CONFIG);
    configs.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    configs.put(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        IsolationLevel.READ_COMMITTED.toString().toLowerCase(java.util.Locale.ROOT));
    configs.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    long deadline = System.nanoTime() + timeout.toNanos();
    long last = -1;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(configs, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(List.of(partition));
      consumer.seek(partition, from);
      while (consumer.position(partition, left(deadline)) < to) {
        if (System.nanoTime() >= deadline) {
          throw new IllegalStateException(
              "could not read "
                  + partition
                  + " from "
                  + from
                  + " to "
                  + to
                  + " within "
                  + timeout.toMillis()
                  + " ms (an open transaction below "
                  + to
                  + "?)");
        }
        Duration poll = left(deadline);
        for (ConsumerRecord<byte[], byte[]> r :
            consumer
                .poll(poll.compareTo(Duration.ofMillis(200)) < 0 ? poll : Duration.ofMillis(200))
                .records(partition)) {
          if (r.offset() < to) {
            last = Math.max(last, r.offset());
          }
        }
      }
    }
    return last < 0 ? OptionalLong.empty() : OptionalLong.of(last);
  }

  private static Duration left(long deadlineNanos) {
    return Duration.ofNanos(Math.max(1_000_000, deadlineNanos - System.nanoTime()));
  }
}
