package dev.backbone.rescale;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.topics.WritableTopics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The persisted plan of an application's rescale: the one record, in the compacted topic {@code
 * <application.id>-rescale}, that says which rescale runs and which step it completed last.
 *
 * <p><b>What must hold.</b> At most one coordinator moves an application at a time, and every step
 * is recorded before the next one starts, so that a crash at any point leaves a plan to resume or
 * roll back from. Both come from one transactional producer per application ({@code
 * transactional.id = <application.id>-rescale-coordinator}): a coordinator that opens the log
 * fences every earlier one (its {@code initTransactions} bumps the producer epoch and aborts the
 * earlier one's open transaction), after which the earlier one's writes fail with {@code
 * ProducerFencedException} or, under transactions v2, {@code InvalidProducerEpochException},
 * reported here as {@code RESCALE_COORDINATOR_FENCED}; and a step is recorded only when its
 * transaction committed, read back with {@code read_committed}. The topic is created writable
 * before the producer sends ({@link WritableTopics}).
 */
public final class RescaleLog implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final String applicationId;
  private final String topic;
  private final KafkaProducer<byte[], byte[]> producer;
  private final Clock clock;
  private Optional<RescalePlan> current;

  private RescaleLog(
      String applicationId,
      KafkaProducer<byte[], byte[]> producer,
      Optional<RescalePlan> current,
      Clock clock) {
    this.applicationId = applicationId;
    this.topic = topic(applicationId);
    this.producer = producer;
    this.current = current;
    this.clock = clock;
  }

  /** The log topic of an application. */
  public static String topic(String applicationId) {
    return applicationId + "-rescale";
  }

  /**
   * Opens the log of {@code applicationId} as its only coordinator: creates the topic if needed,
   * fences any earlier coordinator, and reads the current plan.
   *
   * @param admin for the topic
   * @param clientConfigs settings for the producer and consumer (bootstrap servers, security)
   * @param replicationFactor of the topic, or -1 for the brokers' default
   */
  public static RescaleLog open(
      Admin admin,
      Map<String, Object> clientConfigs,
      String applicationId,
      short replicationFactor,
      Clock clock) {
    String topic = topic(applicationId);
    new WritableTopics(admin)
        .create(
            List.of(
                new NewTopic(
                        topic,
                        Optional.of(1),
                        replicationFactor < 0 ? Optional.empty() : Optional.of(replicationFactor))
                    .configs(
                        Map.of(
                            TopicConfig.CLEANUP_POLICY_CONFIG,
                            TopicConfig.CLEANUP_POLICY_COMPACT))));
    Map<String, Object> producerConfigs = new HashMap<>(clientConfigs);
    producerConfigs.put(
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, applicationId + "-rescale-coordinator");
    producerConfigs.put(ProducerConfig.ACKS_CONFIG, "all");
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(producerConfigs, new ByteArraySerializer(), new ByteArraySerializer());
    try {
      producer.initTransactions();
      return new RescaleLog(applicationId, producer, read(clientConfigs, topic), clock);
    } catch (RuntimeException e) {
      producer.close(Duration.ZERO);
      throw e;
    }
  }

  /** The latest plan, ended or not; empty if the application was never rescaled. */
  public Optional<RescalePlan> current() {
    return current;
  }

  /**
   * Records a new rescale.
   *
   * @throws FatalBackboneException {@code RESCALE_RUNNING} if one has not ended; {@code
   *     RESCALE_INVALID} for a target below 1 or equal to the current count
   */
  public RescalePlan begin(int fromGeneration, int fromPartitions, int toPartitions) {
    if (current.isPresent() && !current.get().step().ended()) {
      RescalePlan running = current.get();
      throw new FatalBackboneException(
          "RESCALE_RUNNING",
          "a rescale of "
              + applicationId
              + " from "
              + running.fromPartitions()
              + " to "
              + running.toPartitions()
              + " tasks is at step "
              + running.step()
              + "; resume it (--resume) or roll it back (--abort) first");
    }
    RescalePlan plan;
    try {
      plan =
          RescalePlan.begin(
              applicationId, fromGeneration, fromPartitions, toPartitions, clock.instant());
    } catch (IllegalArgumentException e) {
      throw new FatalBackboneException("RESCALE_INVALID", e.getMessage());
    }
    return record(plan);
  }

  /**
   * Records that the current rescale completed {@code step}.
   *
   * @throws FatalBackboneException {@code RESCALE_INVALID} if no rescale runs or {@code step}
   *     cannot follow its current one
   */
  public RescalePlan advance(RescalePlan.Step step, String note) {
    return advance(step, note, null);
  }

  /**
   * Records that the current rescale completed {@code step}, with the base offsets its new states
   * were built at ({@link RescalePlan#baseOffsets}); null keeps the recorded ones.
   *
   * @throws FatalBackboneException {@code RESCALE_INVALID} if no rescale runs or {@code step}
   *     cannot follow its current one
   */
  public RescalePlan advance(RescalePlan.Step step, String note, List<Long> baseOffsets) {
    RescalePlan running =
        current.orElseThrow(
            () ->
                new FatalBackboneException(
                    "RESCALE_INVALID", "no rescale of " + applicationId + " to advance"));
    try {
      RescalePlan next = running.advance(step, note, clock.instant());
      return record(baseOffsets == null ? next : next.withBaseOffsets(baseOffsets));
    } catch (IllegalStateException e) {
      throw new FatalBackboneException("RESCALE_INVALID", e.getMessage());
    }
  }

  private RescalePlan record(RescalePlan plan) {
    byte[] value;
    try {
      value = JSON.writeValueAsBytes(plan);
    } catch (IOException e) {
      throw new IllegalStateException("a rescale plan is always JSON", e);
    }
    try {
      producer.beginTransaction();
      producer
          .send(
              new ProducerRecord<>(topic, 0, applicationId.getBytes(StandardCharsets.UTF_8), value))
          .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      producer.commitTransaction();
    } catch (ProducerFencedException | InvalidProducerEpochException e) {
      throw fenced();
    } catch (ExecutionException e) {
      // Fenced by a newer coordinator: with transactions v2 (KIP-890, the 4.4.0 default) the send
      // fails with InvalidProducerEpochException, not ProducerFencedException (seen in
      // RescaleLogIT).
      if (e.getCause() instanceof ProducerFencedException
          || e.getCause() instanceof InvalidProducerEpochException) {
        abortQuietly();
        throw fenced();
      }
      abortQuietly();
      throw unrecorded(plan, e.getCause());
    } catch (java.util.concurrent.TimeoutException | KafkaException e) {
      abortQuietly();
      throw unrecorded(plan, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abortQuietly();
      throw unrecorded(plan, e);
    }
    current = Optional.of(plan);
    return plan;
  }

  private void abortQuietly() {
    try {
      producer.abortTransaction();
    } catch (KafkaException ignored) {
      // The transaction was not committed; whether the abort got through does not matter.
    }
  }

  private FatalBackboneException fenced() {
    return new FatalBackboneException(
        "RESCALE_COORDINATOR_FENCED",
        "another rescale coordinator of "
            + applicationId
            + " opened its log since this one did; this one stops and records nothing more");
  }

  private RetriableBackboneException unrecorded(RescalePlan plan, Throwable cause) {
    return new RetriableBackboneException(
        "RESCALE_LOG_UNAVAILABLE",
        "could not record step "
            + plan.step()
            + " of the rescale of "
            + applicationId
            + " in "
            + topic
            + " ("
            + cause
            + "); nothing after it was done, so it can be retried",
        cause);
  }

  /**
   * The latest committed plan of {@code applicationId} without opening the log as its coordinator
   * (nothing is fenced): what a node reads when it starts, to know which generation runs and
   * whether its ingest is paused. Empty if the application was never rescaled (no log topic).
   *
   * @throws RetriableBackboneException {@code RESCALE_LOG_UNAVAILABLE} if the log cannot be read
   * @throws FatalBackboneException {@code RESCALE_LOG_UNREADABLE} if it holds something else
   */
  public static Optional<RescalePlan> readCurrent(
      Admin admin, Map<String, Object> clientConfigs, String applicationId) {
    String topic = topic(applicationId);
    try {
      admin
          .describeTopics(List.of(topic))
          .allTopicNames()
          .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return Optional.empty();
      }
      throw new RetriableBackboneException(
          "RESCALE_LOG_UNAVAILABLE", "could not describe " + topic + ": " + e.getCause(), e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new RetriableBackboneException(
          "RESCALE_LOG_UNAVAILABLE", "could not describe " + topic + " in time", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RetriableBackboneException(
          "RESCALE_LOG_UNAVAILABLE", "interrupted while reading " + topic, e);
    }
    return read(clientConfigs, topic);
  }

  /** The last committed plan in the topic, read from its start to its last stable offset. */
  private static Optional<RescalePlan> read(Map<String, Object> clientConfigs, String topic) {
    Map<String, Object> configs = new HashMap<>(clientConfigs);
    configs.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    configs.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    configs.remove(ConsumerConfig.GROUP_ID_CONFIG);
    TopicPartition partition = new TopicPartition(topic, 0);
    RescalePlan last = null;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(configs, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long end = consumer.endOffsets(List.of(partition), TIMEOUT).get(partition);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (consumer.position(partition, TIMEOUT) < end) {
        if (System.nanoTime() > deadline) {
          throw new RetriableBackboneException(
              "RESCALE_LOG_UNAVAILABLE", "could not read " + topic + " to its end in time");
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          if (record.value() != null) {
            last = JSON.readValue(record.value(), RescalePlan.class);
          }
        }
      }
    } catch (IOException e) {
      throw new FatalBackboneException(
          "RESCALE_LOG_UNREADABLE", topic + " holds a record that is not a rescale plan: " + e);
    }
    return Optional.ofNullable(last);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
