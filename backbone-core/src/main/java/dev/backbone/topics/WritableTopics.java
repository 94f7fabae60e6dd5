package dev.backbone.topics;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Creates topics and waits until every partition of them really accepts writes: the one place where
 * Backbone decides that a producer may start.
 *
 * <p><b>What must hold.</b> No producer Backbone runs sends to a partition before that partition's
 * leader has applied it. Otherwise an idempotent producer can lose records silently (KAFKA-15591,
 * the same defect as KAFKA-14312, KAFKA-18202 and KAFKA-19880): its first request to a new
 * partition fails with the retriable {@code NOT_LEADER_OR_FOLLOWER}, a later request of the same
 * producer is appended, and the broker, which accepts any first sequence from a producer it has no
 * state for ({@code ProducerAppendInfo.checkSequence} in kafka-storage 4.4.0), then answers every
 * retry of the first one with {@code OUT_OF_ORDER_SEQUENCE_NUMBER} until {@code
 * delivery.timeout.ms} expires it. Kafka 4.4.0's broker still behaves so (see {@code
 * docs/kafka-4.4.md}, "Load path"), and users run older brokers anyway.
 *
 * <p><b>Why metadata is not enough.</b> A broker publishes a new metadata image to its metadata
 * cache before its replica manager creates the partitions of that image ({@code
 * BrokerMetadataPublisher.onMetadataUpdate} calls {@code metadataCache.setImage} and only then
 * {@code replicaManager.applyDelta}). In between, a Metadata response already names the leader, a
 * describe shows it, and a Produce to that leader fails with {@code NOT_LEADER_OR_FOLLOWER} ({@code
 * ReplicaManager.getPartitionOrError}: the partition is in the metadata cache but not yet hosted).
 * Waiting for the topic to be listed, even on every broker, does not close that window.
 *
 * <p><b>What proves writability.</b> A ListOffsets answer from each partition's leader. A
 * consumer's ListOffsets (replica id -1) is served only by the leader and only from a partition its
 * replica manager hosts online ({@code ReplicaManager.fetchOffsetForTimestamp} with {@code
 * fetchOnlyFromLeader}, {@code Partition.localLogWithEpochOrThrow}), which is exactly what a
 * Produce needs before it is appended ({@code Partition.appendRecordsToLeader}); Admin retries a
 * {@code NOT_LEADER_OR_FOLLOWER} answer ({@code ListOffsetsHandler}) until the leader says yes. It
 * writes nothing: a probe record would land in the user's topic and be counted by the pipeline.
 * Other brokers' metadata only decides when a producer learns the topic; until it does, the
 * producer waits ({@code max.block.ms}) without sending, so no sequence can be lost there.
 *
 * <p>Thread-safe; the Admin client is the caller's and is not closed here.
 */
public final class WritableTopics {
  /** The {@code code()} of the exception {@link #awaitWritable} throws for a missing topic. */
  public static final String TOPIC_NOT_FOUND = "TOPIC_NOT_FOUND";

  /** How long {@link #WritableTopics(Admin)} waits for a topic to become writable. */
  public static final Duration DEFAULT_PATIENCE = Duration.ofSeconds(30);

  private static final Duration RETRY_BACKOFF = Duration.ofMillis(100);
  private static final Duration NOT_FOUND_GRACE = Duration.ofSeconds(1);

  private final Admin admin;
  private final Duration patience;

  /** Waits up to {@link #DEFAULT_PATIENCE} for each topic. */
  public WritableTopics(Admin admin) {
    this(admin, DEFAULT_PATIENCE);
  }

  /**
   * @param admin the cluster's Admin client
   * @param patience how long to wait for one topic to become writable
   */
  public WritableTopics(Admin admin, Duration patience) {
    if (admin == null) {
      throw new IllegalArgumentException("an Admin client is required");
    }
    if (patience == null || patience.isNegative() || patience.isZero()) {
      throw new IllegalArgumentException("patience must be positive, got " + patience);
    }
    this.admin = admin;
    this.patience = patience;
  }

  /**
   * Creates the topics that do not exist yet, keeps the ones that do exactly as they are (another
   * node may race to create them), and waits until every partition of every one accepts writes.
   *
   * @return the partition count of each topic, in the order given
   * @throws FatalBackboneException {@code TOPIC_CREATION_FAILED} if the brokers refuse a topic
   * @throws RetriableBackboneException {@code KAFKA_UNAVAILABLE} if the brokers did not answer,
   *     {@code TOPIC_NOT_WRITABLE} if a partition's leader did not accept writes in time
   */
  public Map<String, Integer> create(List<NewTopic> topics) {
    CreateTopicsResult result = admin.createTopics(topics);
    for (Map.Entry<String, KafkaFuture<Void>> created : result.values().entrySet()) {
      try {
        await(created.getValue(), created.getKey());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw failure("create topic " + created.getKey(), e.getCause());
        }
      }
    }
    Map<String, Integer> partitions = new LinkedHashMap<>();
    for (NewTopic topic : topics) {
      // The topic exists now: an unknown-topic answer only means the broker asked has not
      // caught up with the controller yet.
      partitions.put(topic.name(), awaitWritable(topic.name(), true));
    }
    return partitions;
  }

  /**
   * Waits until every partition of an existing topic accepts writes.
   *
   * @return the topic's partition count
   * @throws FatalBackboneException {@link #TOPIC_NOT_FOUND} if the topic does not exist (after a
   *     grace of 1 s: a broker answers "unknown" for a moment after a topic was created)
   * @throws RetriableBackboneException {@code KAFKA_UNAVAILABLE} if the brokers did not answer,
   *     {@code TOPIC_NOT_WRITABLE} if a partition's leader did not accept writes in time
   */
  public int awaitWritable(String topic) {
    return awaitWritable(topic, false);
  }

  private int awaitWritable(String topic, boolean known) {
    long deadline = System.nanoTime() + patience.toNanos();
    TopicDescription description = describe(topic, known, deadline);
    Map<TopicPartition, OffsetSpec> latest =
        description.partitions().stream()
            .map(p -> new TopicPartition(topic, p.partition()))
            .collect(Collectors.toMap(Function.identity(), tp -> OffsetSpec.latest()));
    ListOffsetsOptions options = new ListOffsetsOptions().timeoutMs(remainingMillis(deadline));
    try {
      await(admin.listOffsets(latest, options).all(), topic);
    } catch (ExecutionException e) {
      throw new RetriableBackboneException(
          "TOPIC_NOT_WRITABLE",
          "the leaders of topic "
              + topic
              + "'s "
              + latest.size()
              + " partitions did not all accept requests within "
              + patience.toSeconds()
              + "s ("
              + e.getCause()
              + "); nothing was sent. Check that every partition has a live leader"
              + " (kafka-topics.sh --describe) and retry.",
          e.getCause());
    }
    return description.partitions().size();
  }

  private TopicDescription describe(String topic, boolean known, long deadline) {
    // A broker learns of a new topic from the controller a moment after it was created, and
    // answers "unknown" until then: a topic created elsewhere just before is not missing.
    long notFoundAfter = System.nanoTime() + NOT_FOUND_GRACE.toNanos();
    while (true) {
      try {
        return await(admin.describeTopics(List.of(topic)).allTopicNames(), topic).get(topic);
      } catch (ExecutionException e) {
        boolean unknown = e.getCause() instanceof UnknownTopicOrPartitionException;
        if (unknown && !known && System.nanoTime() - notFoundAfter > 0) {
          throw new FatalBackboneException(
              TOPIC_NOT_FOUND,
              "topic " + topic + " does not exist; create it first, then run again",
              e.getCause());
        }
        if (!unknown || System.nanoTime() - deadline > 0) {
          throw failure("describe topic " + topic, e.getCause());
        }
      }
      pause(topic);
    }
  }

  private <T> T await(KafkaFuture<T> future, String topic) throws ExecutionException {
    try {
      return future.get(patience.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new RetriableBackboneException(
          "KAFKA_UNAVAILABLE",
          "the brokers did not answer about topic "
              + topic
              + " within "
              + patience.toSeconds()
              + "s. Check that the bootstrap servers are reachable and retry.",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw interrupted(topic, e);
    }
  }

  private static void pause(String topic) {
    try {
      Thread.sleep(RETRY_BACKOFF.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw interrupted(topic, e);
    }
  }

  private static RetriableBackboneException interrupted(String topic, InterruptedException e) {
    return new RetriableBackboneException(
        "INTERRUPTED", "interrupted while waiting for topic " + topic + "; try again", e);
  }

  private static int remainingMillis(long deadlineNanos) {
    long millis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, millis));
  }

  private static RuntimeException failure(String action, Throwable cause) {
    if (cause instanceof RetriableException) {
      return new RetriableBackboneException(
          "KAFKA_UNAVAILABLE",
          "could not "
              + action
              + ": "
              + cause
              + ". Check that the brokers are reachable and retry.",
          cause);
    }
    return new FatalBackboneException(
        "TOPIC_CREATION_FAILED",
        "could not " + action + ": " + cause + ". Check the broker count and ACLs.",
        cause);
  }
}
