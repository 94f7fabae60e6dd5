package dev.backbone.testkit;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A running Kafka cluster shared by the tests of this JVM, with the client plumbing tests need.
 *
 * <p>Because the cluster is shared, a test must never assume it is alone: name topics, consumer
 * groups and Kafka Streams application ids with {@link #uniqueName(String)}. Do not close the
 * {@link #admin()}; close the producers you ask for.
 *
 * <p>Thread-safe.
 */
public final class TestKafkaCluster {
  /** How long Admin calls and topic creation may take before the test fails. */
  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

  private static final Pattern LEGAL_NAME = Pattern.compile("[a-zA-Z0-9._-]+");
  private static final AtomicLong NAME_SEQUENCE = new AtomicLong();

  private final String bootstrapServers;
  private final Admin admin;
  private final int defaultReplicationFactor;
  private final BiPredicate<String, Integer> knownToEveryBroker;
  private final Predicate<TopicPartition> ledAndHosted;

  /**
   * @param knownToEveryBroker whether every broker lists a topic with a given partition count
   * @param ledAndHosted whether a broker hosts a partition online as its leader
   */
  TestKafkaCluster(
      String bootstrapServers,
      Admin admin,
      int defaultReplicationFactor,
      BiPredicate<String, Integer> knownToEveryBroker,
      Predicate<TopicPartition> ledAndHosted) {
    this.bootstrapServers = bootstrapServers;
    this.admin = admin;
    this.defaultReplicationFactor = defaultReplicationFactor;
    this.knownToEveryBroker = knownToEveryBroker;
    this.ledAndHosted = ledAndHosted;
  }

  /** The brokers' client addresses, comma separated, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** An Admin client for this cluster, shared by all tests and closed with the cluster. */
  public Admin admin() {
    return admin;
  }

  /**
   * A name no other call in this JVM returns: {@code prefix}, a dash, a sequence number and a short
   * random part, e.g. {@code orders-17-3fa2}. Use it for topics, group ids and application ids.
   *
   * @param prefix letters, digits, '.', '_' or '-' (what Kafka allows in a topic name)
   */
  public String uniqueName(String prefix) {
    if (prefix == null || !LEGAL_NAME.matcher(prefix).matches()) {
      throw new IllegalArgumentException(
          "A name prefix may hold only letters, digits, '.', '_' and '-': " + prefix);
    }
    return String.format(
        "%s-%d-%04x",
        prefix, NAME_SEQUENCE.incrementAndGet(), ThreadLocalRandom.current().nextInt(0x10000));
  }

  /**
   * Creates a topic with as many replicas as brokers (at most three) and the broker's default
   * configuration, and waits until its metadata is visible.
   */
  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, defaultReplicationFactor, Map.of());
  }

  /**
   * Creates a topic and waits until it is usable: every broker knows the topic, every partition has
   * a leader, and every leader accepts writes ({@link #acceptsWrites}), so any client may use it at
   * once.
   *
   * @param configs topic-level settings such as {@code cleanup.policy}
   * @throws IllegalStateException when Kafka refuses the topic (it already exists, too many
   *     replicas, bad config), with Kafka's exception as the cause
   */
  public void createTopic(
      String name, int partitions, int replicationFactor, Map<String, String> configs) {
    NewTopic topic = new NewTopic(name, partitions, (short) replicationFactor).configs(configs);
    get(admin.createTopics(List.of(topic)).all(), "create topic " + name);
    await("metadata of topic " + name)
        .atMost(ADMIN_TIMEOUT)
        .pollInSameThread()
        .until(
            () ->
                knownToEveryBroker.test(name, partitions)
                    && hasLeaders(name, partitions)
                    && acceptsWrites(name, partitions));
  }

  /**
   * Whether every partition of the topic is, right now, hosted online by the broker that leads it,
   * as that broker's replica manager judges a Produce request. This is stricter than any metadata a
   * client can see: a broker lists a new partition, leader included, before it has created it, and
   * a Produce in between fails with NOT_LEADER_OR_FOLLOWER (which can cost an idempotent producer
   * records, KAFKA-15591).
   *
   * @param partitions how many partitions the topic has
   */
  public boolean acceptsWrites(String topic, int partitions) {
    return IntStream.range(0, partitions)
        .allMatch(p -> ledAndHosted.test(new TopicPartition(topic, p)));
  }

  /**
   * Creates a topic whose broker refuses every write, for tests of what a producer does when Kafka
   * fails its sends: {@code max.message.bytes} is 1, so every batch is too large ({@code
   * UnifiedLog}'s batch size check answers MESSAGE_TOO_LARGE, which the producer does not retry
   * once a batch holds one record).
   */
  public void createTopicRefusingWrites(String name, int partitions) {
    createTopic(name, partitions, defaultReplicationFactor, Map.of("max.message.bytes", "1"));
  }

  private boolean hasLeaders(String topic, int partitions) throws InterruptedException {
    TopicDescription description;
    try {
      description =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .get(topic);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return false;
      }
      throw new IllegalStateException("Describing topic " + topic + " failed: " + e.getCause(), e);
    } catch (TimeoutException e) {
      return false;
    }
    return description.partitions().size() == partitions
        && description.partitions().stream().allMatch(p -> p.leader() != null);
  }

  /**
   * A producer with {@code acks=all} and idempotence on. The caller closes it; closing it also
   * closes the serializers, as {@link KafkaProducer} always does.
   */
  public <K, V> KafkaProducer<K, V> producer(
      Serializer<K> keySerializer, Serializer<V> valueSerializer) {
    Properties props = clientProperties();
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    return new KafkaProducer<>(props, keySerializer, valueSerializer);
  }

  /** {@link #producer} for string keys and values. */
  public KafkaProducer<String, String> stringProducer() {
    return producer(new StringSerializer(), new StringSerializer());
  }

  /**
   * Every committed record of the topic, from the beginning up to the end offsets committed when
   * this call starts: records of aborted or still open transactions are never returned, records
   * appended after the call starts may or may not be. Records of one partition come in offset
   * order. The deserializers are closed afterwards, as {@link KafkaConsumer} always does.
   *
   * @param timeout how long reading to the end may take
   * @throws AssertionError when the end is not reached in time, naming the partitions that lag
   */
  public <K, V> List<ConsumerRecord<K, V>> readAll(
      String topic,
      Deserializer<K> keyDeserializer,
      Deserializer<V> valueDeserializer,
      Duration timeout) {
    List<TopicPartition> partitions = partitionsOf(topic);
    Properties props = clientProperties();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    try (KafkaConsumer<K, V> consumer =
        new KafkaConsumer<>(props, keyDeserializer, valueDeserializer)) {
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      // Under read_committed these are the last stable offsets: the end of what is decided.
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      List<ConsumerRecord<K, V>> records = new ArrayList<>();
      try {
        await("reading " + topic + " to its end offsets " + end)
            .atMost(timeout)
            .pollInSameThread()
            .pollDelay(Duration.ZERO)
            .pollInterval(Duration.ofMillis(1))
            .until(
                () -> {
                  consumer.poll(Duration.ofMillis(100)).forEach(records::add);
                  return laggingPartitions(consumer, end).isEmpty();
                });
      } catch (ConditionTimeoutException e) {
        throw new AssertionError(
            "readAll("
                + topic
                + ") did not reach the end offsets "
                + end
                + " within "
                + timeout
                + "; still behind: "
                + laggingPartitions(consumer, end)
                + ", records read: "
                + records.size(),
            e);
      }
      return records;
    }
  }

  /** {@link #readAll} for string keys and values. */
  public List<ConsumerRecord<String, String>> readAllStrings(String topic, Duration timeout) {
    return readAll(topic, new StringDeserializer(), new StringDeserializer(), timeout);
  }

  private static Map<TopicPartition, Long> laggingPartitions(
      KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    return end.entrySet().stream()
        .filter(e -> consumer.position(e.getKey()) < e.getValue())
        .collect(Collectors.toMap(Map.Entry::getKey, e -> consumer.position(e.getKey())));
  }

  /**
   * The committed end offset of every partition of the topic (the last stable offset: records below
   * it are committed or aborted, none is in an open transaction). Without transactions it is the
   * ordinary end offset.
   */
  public Map<TopicPartition, Long> endOffsets(String topic) {
    Map<TopicPartition, OffsetSpec> request =
        partitionsOf(topic).stream()
            .collect(Collectors.toMap(Function.identity(), tp -> OffsetSpec.latest()));
    return get(
            admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all(),
            "list end offsets of " + topic)
        .entrySet()
        .stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
  }

  /**
   * The sum of the topic's committed end offsets ({@link #endOffsets}): how many records were ever
   * appended to a topic that was never truncated, compacted or written transactionally.
   */
  public long endOffsetSum(String topic) {
    return endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
  }

  /**
   * Whether consumer group {@code groupId} (e.g. a Kafka Streams application id) has committed
   * every partition of {@code topic} up to its {@linkplain #endOffsets committed end}: every record
   * acknowledged so far was processed, and its effect committed. For a Kafka Streams application
   * that is the moment its stores (flushed before the offsets are committed) hold the records'
   * effects for good, so that a read that begins later must see them.
   */
  public boolean hasCommittedToEnd(String groupId, String topic) {
    Map<TopicPartition, Long> ends = endOffsets(topic);
    Map<TopicPartition, OffsetAndMetadata> committed =
        get(
            admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata(),
            "list the committed offsets of group " + groupId);
    return ends.entrySet().stream()
        .allMatch(
            e -> {
              OffsetAndMetadata offset = committed.get(e.getKey());
              return e.getValue() == 0 || (offset != null && offset.offset() >= e.getValue());
            });
  }

  /**
   * Settings every client of this cluster needs ({@code bootstrap.servers}); a fresh copy each
   * call, to add the client's own settings to.
   */
  public Properties clientProperties() {
    Properties props = new Properties();
    props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return props;
  }

  private List<TopicPartition> partitionsOf(String topic) {
    TopicDescription description =
        get(admin.describeTopics(List.of(topic)).allTopicNames(), "describe topic " + topic)
            .get(topic);
    return description.partitions().stream()
        .map(TopicPartitionInfo::partition)
        .map(p -> new TopicPartition(topic, p))
        .toList();
  }

  private static <T> T get(KafkaFuture<T> future, String what) {
    try {
      return future.get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException("Could not " + what + ": " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("Could not " + what + " within " + ADMIN_TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while trying to " + what, e);
    }
  }
}
