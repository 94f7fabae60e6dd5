package dev.backbone.rescale;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.topics.WritableTopics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The changelogs of a new generation, created before its stage starts, each partition opening with
 * a <b>generation base</b>: one marker record at offset {@value #BASE_OFFSET}, deleted at once, so
 * that the partition's log starts at {@code BASE_OFFSET + 1} from the first write on.
 *
 * <p>Why: the new generation's changelogs hold only what is written after the rescale; the state
 * before it is in the new tasks' first snapshots, whose committed offset is {@value #BASE_OFFSET}.
 * With the log start past the base, a store that opens empty needs offset 0, which is gone, so the
 * bootstrap sends it to a snapshot (a required copy, see docs/bootstrap.md, "A changelog that lacks
 * records the store needs") instead of letting it replay a changelog that lacks the state; a store
 * built from a first snapshot, at the base, replays from the next offset as usual. No seeding of
 * the state into the changelogs is needed inside the pause.
 *
 * <p>The topics are {@code compact,delete} with no time or size retention ({@code retention.ms=-1},
 * {@code retention.bytes=-1}): Kafka refuses {@code deleteRecords} on a compact-only topic, and
 * with unlimited retention the delete policy removes nothing but the base. They are created
 * writable ({@link WritableTopics}) before the marker is produced, with {@code acks=all} and
 * idempotence. A partition that holds records but no base is refused, nothing deleted from it.
 */
public final class GenerationChangelogs {
  /** The offset of the base marker in every partition; the new tasks' first committed offset. */
  public static final long BASE_OFFSET = 0;

  /** The key of the base marker record. */
  public static final String BASE_KEY = "__backbone.generation.base__";

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private GenerationChangelogs() {}

  /**
   * Creates {@code topic} with {@code partitions} partitions and its generation base (an existing
   * topic of that name whose partitions already start past the base is left as it is).
   *
   * @param clientConfigs settings for the marker's producer (bootstrap servers, security)
   * @param replicationFactor the replication factor, or -1 for the brokers' default
   * @throws RetriableBackboneException {@code RESCALE_TOPICS_UNAVAILABLE} if the brokers do not
   *     take the topic, the marker or its deletion in time
   */
  public static void create(
      Admin admin,
      Map<String, Object> clientConfigs,
      String topic,
      int partitions,
      short replicationFactor) {
    new WritableTopics(admin)
        .create(
            List.of(
                new NewTopic(
                        topic,
                        Optional.of(partitions),
                        replicationFactor < 0 ? Optional.empty() : Optional.of(replicationFactor))
                    .configs(
                        Map.of(
                            TopicConfig.CLEANUP_POLICY_CONFIG,
                            TopicConfig.CLEANUP_POLICY_COMPACT
                                + ","
                                + TopicConfig.CLEANUP_POLICY_DELETE,
                            TopicConfig.RETENTION_MS_CONFIG,
                            "-1",
                            TopicConfig.RETENTION_BYTES_CONFIG,
                            "-1"))));
    try {
      List<TopicPartition> needBase = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        TopicPartition tp = new TopicPartition(topic, p);
        if (offset(admin, tp, OffsetSpec.earliest()) <= BASE_OFFSET) {
          needBase.add(tp);
        }
      }
      if (needBase.isEmpty()) {
        return;
      }
      Map<String, Object> producerConfigs = new HashMap<>(clientConfigs);
      producerConfigs.put(ProducerConfig.ACKS_CONFIG, "all");
      producerConfigs.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      Map<TopicPartition, RecordsToDelete> deletes = new HashMap<>();
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(
              producerConfigs, new ByteArraySerializer(), new ByteArraySerializer())) {
        for (TopicPartition tp : needBase) {
          long end = offset(admin, tp, OffsetSpec.latest());
          if (end == BASE_OFFSET) {
            long at =
                producer
                    .send(
                        new ProducerRecord<>(
                            topic, tp.partition(), BASE_KEY.getBytes(StandardCharsets.UTF_8), null))
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .offset();
            if (at != BASE_OFFSET) {
              throw new IllegalStateException(
                  "the generation base of " + tp + " landed at offset " + at + ", not 0");
            }
          } else if (end > BASE_OFFSET + 1 || !isBase(clientConfigs, tp)) {
            // Records in a partition that has no base: not a changelog this step created (or the
            // stage wrote before the base was in place). Deleting offset 0 could lose one of them.
            throw new FatalBackboneException(
                "RESCALE_TOPIC_NOT_NEW",
                tp
                    + " holds "
                    + end
                    + " records but no generation base; it is not a new generation's changelog,"
                    + " and nothing was deleted from it");
          }
          deletes.put(tp, RecordsToDelete.beforeOffset(BASE_OFFSET + 1));
        }
      }
      admin.deleteRecords(deletes).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw unavailable(topic, e.getCause());
    } catch (TimeoutException e) {
      throw unavailable(topic, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable(topic, e);
    }
  }

  /** Whether the one record of {@code tp}, at the base offset, is the generation base marker. */
  private static boolean isBase(Map<String, Object> clientConfigs, TopicPartition tp) {
    Map<String, Object> configs = new HashMap<>(clientConfigs);
    configs.remove(ConsumerConfig.GROUP_ID_CONFIG);
    configs.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(configs, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(List.of(tp));
      consumer.seek(tp, BASE_OFFSET);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          return record.offset() == BASE_OFFSET
              && record.key() != null
              && BASE_KEY.equals(new String(record.key(), StandardCharsets.UTF_8));
        }
      }
    }
    return false;
  }

  private static long offset(Admin admin, TopicPartition tp, OffsetSpec spec)
      throws ExecutionException, InterruptedException, TimeoutException {
    return admin
        .listOffsets(Map.of(tp, spec))
        .partitionResult(tp)
        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .offset();
  }

  private static RetriableBackboneException unavailable(String topic, Throwable cause) {
    return new RetriableBackboneException(
        "RESCALE_TOPICS_UNAVAILABLE",
        "could not create the changelog "
            + topic
            + " of the next generation with its base ("
            + cause
            + "); the step can be retried",
        cause);
  }
}
