package dev.backbone.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.config.BackboneConfig;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingCodec;
import dev.backbone.routing.RoutingPublisher;
import dev.backbone.routing.RoutingPublishingTaskAssignor;
import dev.backbone.routing.RoutingTable;
import dev.backbone.routing.RoutingTopics;
import dev.backbone.routing.TaskRoute;
import dev.backbone.server.internals.RestoreTracker;
import dev.backbone.server.internals.StageProperties;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupAssignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.assignment.ApplicationState;
import org.apache.kafka.streams.processor.assignment.TaskAssignor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Routing publication must never delay a rebalance: here the routing topic does not exist, on a
 * real broker that never creates topics on demand ({@code auto.create.topics.enable=false}, from
 * {@code BrokerDefaults}). A producer asked to send to such a topic has no metadata for it and
 * waits in {@code KafkaProducer#waitOnMetadata} up to {@code max.block.ms} (60 s by default) before
 * failing the send; the broker answers every metadata request for it with
 * UNKNOWN_TOPIC_OR_PARTITION.
 *
 * <p>The assignor runs on the group leader's stream thread, inside {@code Consumer#poll}: Kafka
 * Streams' {@code StreamsPartitionAssignor#assign} calls {@code TaskAssignor#assign} and then,
 * before it returns the group assignment to the consumer coordinator (which only then sends
 * SyncGroup), {@code TaskAssignor#onAssignmentComputed}. Every millisecond spent there is a
 * millisecond every member of the group waits, and the leader sends no heartbeat meanwhile (the
 * coordinator's lock is held): a publisher that sent from there waited the full 60 s, longer than
 * {@code session.timeout.ms} (45 s), so the leader was expelled at every rebalance and the group
 * never became RUNNING. Two instances wired as a node wires its stages ({@link
 * StageProperties#resolve}, each with its own long-lived {@link RoutingPublisher}) form a group and
 * rebalance once more when the second joins; both callbacks must return within {@link
 * #CALLBACK_BOUND} each time, and once the topic is created the latest table must appear on it.
 */
@BackboneKafkaCluster(brokers = 1)
class RoutingTopicUnavailableIT {
  private static final Duration CALLBACK_BOUND = Duration.ofSeconds(1);
  private static final Duration REBALANCE_BOUND = Duration.ofSeconds(30);
  private static final Duration GENEROUS = Duration.ofMinutes(4);

  private final List<KafkaStreams> streams = new ArrayList<>();
  private final List<RoutingPublisher> publishers = new ArrayList<>();

  @AfterEach
  void close() {
    streams.forEach(s -> s.close(Duration.ofSeconds(30)));
    publishers.forEach(RoutingPublisher::close);
  }

  @Test
  void aRebalanceCompletesPromptlyWithoutTheRoutingTopicAndTheTableIsPublishedOnceItExists(
      TestKafkaCluster kafka) throws Exception {
    String appId = kafka.uniqueName("routing-missing");
    String input = kafka.uniqueName("routing-missing-in");
    String routingTopic = RoutingTopics.routingTopic(appId);
    kafka.createTopic(input, 4);
    assertThat(topicExists(kafka, routingTopic)).isFalse();
    Queue<CallbackTiming> timings = new ConcurrentLinkedQueue<>();

    long firstStarted = System.nanoTime();
    KafkaStreams a = start(kafka, appId, input, "node-a", timings);
    await("node-a RUNNING").atMost(GENEROUS).until(() -> a.state() == KafkaStreams.State.RUNNING);
    Duration firstRebalance = since(firstStarted);

    long joined = System.nanoTime();
    KafkaStreams b = start(kafka, appId, input, "node-b", timings);
    await("both RUNNING after node-b joined")
        .atMost(GENEROUS)
        .until(
            () ->
                a.state() == KafkaStreams.State.RUNNING
                    && b.state() == KafkaStreams.State.RUNNING
                    && twoClientsAssigned(timings));
    Duration joinRebalance = since(joined);

    System.out.printf(
        "routing topic missing: first rebalance %d ms, join rebalance %d ms, callbacks %s%n",
        firstRebalance.toMillis(), joinRebalance.toMillis(), timings);
    assertThat(timings)
        .as("assign and onAssignmentComputed on the leader, with the routing topic missing")
        .isNotEmpty()
        .allSatisfy(t -> assertThat(t.took()).isLessThan(CALLBACK_BOUND));
    assertThat(joinRebalance).isLessThan(REBALANCE_BOUND);
    assertThat(topicExists(kafka, routingTopic)).isFalse();
    RoutingPublisher leader =
        publishers.stream()
            .filter(p -> p.status().latestGeneration() > 0)
            .reduce((x, y) -> x.status().latestGeneration() > y.status().latestGeneration() ? x : y)
            .orElseThrow();
    // One attempt runs into max.block.ms and fails: the table waits and is retried.
    await("a failed attempt to publish")
        .atMost(Duration.ofSeconds(60))
        .until(() -> leader.status().failedAttempts() >= 1);
    assertThat(topicExists(kafka, routingTopic)).isFalse();
    assertThat(leader.status().waiting()).isTrue();
    assertThat(leader.status().publishedGeneration()).isZero();

    RoutingTopics.ensure(kafka.admin(), appId, (short) 1);

    await("the latest table on " + routingTopic)
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              RoutingPublisher.Status status = leader.status();
              assertThat(status.waiting()).isFalse();
              assertThat(status.publishedGeneration()).isEqualTo(status.latestGeneration());
              RoutingTable latest = latestTable(kafka, routingTopic);
              assertThat(latest.generation()).isEqualTo(status.latestGeneration());
              assertThat(latest.members()).hasSize(2);
              assertThat(latest.tasks()).hasSize(4).allMatch(t -> t.active().isPresent());
            });
  }

  /** One instance of the application, with its own publisher, wired as a node wires a stage. */
  private KafkaStreams start(
      TestKafkaCluster kafka,
      String appId,
      String input,
      String nodeId,
      Queue<CallbackTiming> timings)
      throws Exception {
    Path stateDir = Files.createTempDirectory("backbone-" + nodeId);
    Properties own = new Properties();
    own.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    own.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    own.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    own.put(StreamsConfig.CLIENT_ID_CONFIG, nodeId + "-" + appId);
    own.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.String())).groupByKey().count();
    StreamsStage stage = new StreamsStage("state", builder.build(), own);

    StreamsConfig config = new StreamsConfig(own);
    RoutingPublisher publisher =
        new RoutingPublisher(
            config.getProducerConfigs(nodeId + "-" + appId + "-routing"), new RoutingCache(appId));
    publishers.add(publisher);
    Properties resolved =
        StageProperties.resolve(
            new Properties(),
            stage,
            Optional.of(
                new StageProperties.Routing(
                    nodeId,
                    BackboneConfig.of(Map.of()).routingDelegateAssignorClass(),
                    publisher,
                    new RestoreTracker())));
    resolved.put(StreamsConfig.TASK_ASSIGNOR_CLASS_CONFIG, TimedAssignor.class.getName());
    resolved.put(TimedAssignor.TIMINGS_CONFIG, timings);
    KafkaStreams instance = new KafkaStreams(stage.topology(), resolved);
    streams.add(instance);
    instance.start();
    return instance;
  }

  private static boolean twoClientsAssigned(Queue<CallbackTiming> timings) {
    return timings.stream().anyMatch(t -> t.clients() == 2);
  }

  private static boolean topicExists(TestKafkaCluster kafka, String topic) throws Exception {
    return kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS).contains(topic);
  }

  private static RoutingTable latestTable(TestKafkaCluster kafka, String topic) {
    List<ConsumerRecord<byte[], byte[]>> records =
        kafka.readAll(
            topic,
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer(),
            Duration.ofSeconds(30));
    assertThat(records).isNotEmpty();
    RoutingTable latest = RoutingCodec.decodeTable(records.get(records.size() - 1).value());
    assertThat(latest.tasks()).extracting(TaskRoute::task).isNotEmpty();
    return latest;
  }

  private static Duration since(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  /** How long one assignor callback took on the leader, on which thread, for how many clients. */
  record CallbackTiming(String callback, String thread, int clients, Duration took) {
    @Override
    public String toString() {
      return callback + "(" + clients + " clients) " + took.toMillis() + " ms on " + thread;
    }
  }

  /**
   * The node's {@link RoutingPublishingTaskAssignor}, timed: Kafka Streams instantiates the
   * assignor by class name for every rebalance and configures it with the stage's properties, so
   * the timings travel in those properties, as the publisher does.
   */
  public static final class TimedAssignor implements TaskAssignor {
    static final String TIMINGS_CONFIG = "test.routing.assignor.timings";

    private final RoutingPublishingTaskAssignor routing = new RoutingPublishingTaskAssignor();
    private Queue<CallbackTiming> timings;
    private int clients;

    /** Instantiated by Kafka Streams. */
    public TimedAssignor() {}

    @Override
    @SuppressWarnings("unchecked")
    public void configure(Map<String, ?> configs) {
      routing.configure(configs);
      timings = (Queue<CallbackTiming>) configs.get(TIMINGS_CONFIG);
    }

    @Override
    public TaskAssignment assign(ApplicationState applicationState) {
      clients = applicationState.kafkaStreamsStates(false).size();
      long start = System.nanoTime();
      try {
        return routing.assign(applicationState);
      } finally {
        record("assign", start);
      }
    }

    @Override
    public void onAssignmentComputed(
        GroupAssignment assignment, GroupSubscription subscription, AssignmentError error) {
      long start = System.nanoTime();
      try {
        routing.onAssignmentComputed(assignment, subscription, error);
      } finally {
        record("onAssignmentComputed", start);
      }
    }

    private void record(String callback, long startNanos) {
      timings.add(
          new CallbackTiming(
              callback, Thread.currentThread().getName(), clients, since(startNanos)));
    }
  }
}
