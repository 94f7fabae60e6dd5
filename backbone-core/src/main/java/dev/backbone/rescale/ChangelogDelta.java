package dev.backbone.rescale;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.routing.KeyToTask;
import dev.backbone.topics.WritableTopics;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The last writes of the old generation, carried into the new one: every committed record of the
 * old changelog after the offsets the new generation's first states were built at, written to the
 * new changelog partition of its key. Kafka Streams restores them into the new stores like any
 * changelog tail, so the split of the bulk of the state can run before the pause and only these
 * records are moved inside it.
 *
 * <p><b>What must hold.</b> A new store built from old snapshots at offsets {@code X_i} (one per
 * old partition), then restored from the records copied here, holds exactly what a split of the
 * drained old stores would hold:
 *
 * <ul>
 *   <li>A changelog record is the whole new value of its key (or a tombstone), never an increment,
 *       so a key's state after replaying its records in order is its last record's. Each key lives
 *       in exactly one old partition, whose records are read and sent in offset order by one
 *       producer with idempotence (so in order per target partition); every key's records reach its
 *       new partition in their original order.
 *   <li>Records of aborted transactions never count: the old changelog is read {@code
 *       read_committed}, up to the end offsets read before reading (the old generation is drained
 *       and its feeder paused, so nothing is appended meanwhile).
 *   <li>Replaying records the new state already holds is harmless, by the first point: a copy may
 *       therefore start at or below a state's offset, and a copy that died halfway may be made
 *       again in full. What is never allowed is to start above one: a record would be missing. So a
 *       partition whose records after {@code X_i} were deleted (its log start is past {@code X_i +
 *       1}) fails the copy.
 *   <li>The records keep their key, value and timestamp (a timestamped store restores the timestamp
 *       from the record's), and lose their headers: the consistency vector they carry names the old
 *       generation's input, which the new stores' positions must not claim.
 * </ul>
 *
 * A key whose old partition is not the one the producer's partitioner gives it means the store is
 * not keyed by its input key and cannot be split: refused, naming the key.
 */
public final class ChangelogDelta {
  private static final Duration POLL = Duration.ofMillis(100);

  private ChangelogDelta() {}

  /**
   * What a copy moved.
   *
   * @param records records copied
   * @param bytes their keys' and values' bytes
   */
  public record Result(long records, long bytes) {}

  /**
   * Copies the old changelog's records after {@code fromOffsets} to the new changelog.
   *
   * @param admin the cluster's admin client
   * @param kafka client settings (bootstrap servers, security)
   * @param fromTopic the old generation's changelog
   * @param fromOffsets per old partition (index = partition), the offset of the last record the new
   *     states were built with; -1 when they hold none of that partition
   * @param toTopic the new generation's changelog, with {@code toPartitions} partitions
   * @param toPartitions the new task count
   * @param timeout how long reading and writing may take in all
   * @throws FatalBackboneException {@code RESCALE_DELTA_TRUNCATED} when records after an offset
   *     were deleted; {@code RESCALE_UNSUPPORTED} for a key not in its partitioner's partition
   * @throws RetriableBackboneException {@code KAFKA_UNAVAILABLE} when Kafka did not serve the
   *     records or refused a write in time
   */
  public static Result copy(
      Admin admin,
      Map<String, Object> kafka,
      String fromTopic,
      List<Long> fromOffsets,
      String toTopic,
      int toPartitions,
      Duration timeout)
      throws InterruptedException {
    Objects.requireNonNull(fromTopic, "fromTopic");
    Objects.requireNonNull(toTopic, "toTopic");
    if (toPartitions < 1) {
      throw new IllegalArgumentException("a changelog has at least 1 partition: " + toPartitions);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    int fromPartitions = fromOffsets.size();
    Map<String, Object> consumerConfigs = new HashMap<>(kafka);
    consumerConfigs.remove(ConsumerConfig.GROUP_ID_CONFIG);
    consumerConfigs.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerConfigs.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerConfigs.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 * 1024 * 1024);
    Map<String, Object> producerConfigs = new HashMap<>(kafka);
    producerConfigs.put(ProducerConfig.ACKS_CONFIG, "all");
    producerConfigs.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerConfigs.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    producerConfigs.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    producerConfigs.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    AtomicReference<Exception> failed = new AtomicReference<>();
    AtomicLong records = new AtomicLong();
    AtomicLong bytes = new AtomicLong();
    try (KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(
                consumerConfigs, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(
                producerConfigs, new ByteArraySerializer(), new ByteArraySerializer())) {
      Map<TopicPartition, Long> starts = new HashMap<>();
      for (int p = 0; p < fromPartitions; p++) {
        starts.put(new TopicPartition(fromTopic, p), fromOffsets.get(p) + 1);
      }
      Map<TopicPartition, Long> logStarts =
          consumer.beginningOffsets(starts.keySet(), remaining(deadline));
      Map<TopicPartition, Long> ends = consumer.endOffsets(starts.keySet(), remaining(deadline));
      Set<TopicPartition> open = new HashSet<>();
      for (Map.Entry<TopicPartition, Long> e : starts.entrySet()) {
        TopicPartition tp = e.getKey();
        long from = Math.max(0, e.getValue());
        if (logStarts.get(tp) > from && ends.get(tp) > from) {
          throw new FatalBackboneException(
              "RESCALE_DELTA_TRUNCATED",
              "the records of "
                  + tp
                  + " from offset "
                  + from
                  + " on, which the new generation's states lack, were deleted (the log starts at "
                  + logStarts.get(tp)
                  + "); abort the rescale and start it again");
        }
        if (ends.get(tp) > from) {
          open.add(tp);
          starts.put(tp, from);
        }
      }
      // Every target partition must accept writes before the first send (a just-created topic
      // whose leaders are not known yet would fail or, worse, lose records).
      int partitions = new WritableTopics(admin, remaining(deadline)).awaitWritable(toTopic);
      if (partitions != toPartitions) {
        throw new FatalBackboneException(
            "RESCALE_TOPICS_UNAVAILABLE",
            toTopic + " has " + partitions + " partitions, not " + toPartitions);
      }
      consumer.assign(open);
      open.forEach(tp -> consumer.seek(tp, starts.get(tp)));
      while (!open.isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new RetriableBackboneException(
              "KAFKA_UNAVAILABLE",
              "could not read the old generation's last records of " + open + " within " + timeout);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          if (r.offset() >= ends.get(tp)) {
            continue;
          }
          byte[] key = r.key();
          if (key == null || KeyToTask.partition(key, fromPartitions) != r.partition()) {
            throw new FatalBackboneException(
                "RESCALE_UNSUPPORTED",
                "changelog record "
                    + tp
                    + "@"
                    + r.offset()
                    + " has a key the producer's partitioner does not send to partition "
                    + r.partition()
                    + ": the store is not keyed by its input key and cannot be rescaled");
          }
          records.incrementAndGet();
          bytes.addAndGet(key.length + (r.value() == null ? 0 : r.value().length));
          producer.send(
              new ProducerRecord<>(
                  toTopic, KeyToTask.partition(key, toPartitions), r.timestamp(), key, r.value()),
              (metadata, e) -> {
                if (e != null) {
                  failed.compareAndSet(null, e);
                }
              });
        }
        for (TopicPartition tp : Set.copyOf(open)) {
          if (consumer.position(tp) >= ends.get(tp)) {
            open.remove(tp);
          }
        }
        if (failed.get() != null) {
          break;
        }
      }
      producer.flush();
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      throw new RetriableBackboneException(
          "KAFKA_UNAVAILABLE",
          "Kafka did not answer while copying " + fromTopic + " to " + toTopic + ": " + e,
          e);
    }
    if (failed.get() != null) {
      throw new RetriableBackboneException(
          "KAFKA_UNAVAILABLE",
          "Kafka refused a record copied to "
              + toTopic
              + " ("
              + failed.get()
              + "); the copy is made again in full when the step is resumed",
          failed.get());
    }
    return new Result(records.get(), bytes.get());
  }

  private static Duration remaining(long deadline) {
    return Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime()));
  }
}
