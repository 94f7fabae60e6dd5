package dev.backbone.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.store.ServingTasks;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A replica that Kafka Streams recycles from active to standby keeps its store open, and is never
 * read as current afterwards.
 *
 * <p>node-a runs every task of the profile pipeline alone, with one standby per task configured;
 * then node-b joins and takes some tasks over, and node-a keeps a standby of each (the only other
 * node): Kafka Streams recycles those tasks on node-a ({@code TaskManager} turns the active into a
 * standby over the same open store). Readers read every key through both nodes all along, each
 * answer checked; once Kafka Streams' own view of node-a shows a task as standby, every read of its
 * keys through node-a that began and ended with that view must be answered by node-b (forwarded) or
 * be a retriable 503, never by node-a itself. The profile topology is built with Backbone's
 * processor wrapper, so node-a's reads take the direct path ({@code ServingTasks}) whenever it says
 * the task runs there: the path this test holds to account.
 */
@BackboneKafkaCluster(brokers = 1)
class RecycledReplicaIT {
  private static final String STORE = CustomerProfilePipeline.PROFILE_STORE;
  private static final Duration PATIENCE = Duration.ofSeconds(120);
  private static final int PARTITIONS = 4;
  private static final int CUSTOMERS = 32;
  private static final int READERS = 3;
  private static final int READS_PER_KEY = 20;

  private final List<BackboneNode> nodes = new ArrayList<>();

  @AfterEach
  void closeNodes() {
    nodes.forEach(BackboneNode::close);
  }

  @Test
  void aReplicaRecycledFromActiveToStandbyIsNeverReadAsCurrent(TestKafkaCluster kafka)
      throws Exception {
    PipelineSettings settings = ProfileNodes.createPipeline(kafka, "recycled", PARTITIONS);
    BackboneNode a = start(kafka, settings, "node-a");
    List<String> keys = new ArrayList<>();
    List<String[]> events = new ArrayList<>();
    for (int i = 0; i < CUSTOMERS; i++) {
      keys.add("c-" + i);
      events.add(
          new String[] {"c-" + i, ProfileNodes.event("c-" + i, "order", "sku-" + i, i + ".50")});
    }
    ProfileNodes.send(kafka, settings.inputTopic(), events);
    String keyedEvents = new CustomerProfilePipeline(settings).keyedEventsTopic();
    await("the state stage committed every event")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> kafka.hasCommittedToEnd(settings.applicationId(), keyedEvents));
    ReadChecker<JsonNode> checker = new ReadChecker<>(RecycledReplicaIT::prefixesOf);
    keys.forEach(checker::mustExist);
    await("node-a runs every task").atMost(PATIENCE).until(() -> active(a).size() == PARTITIONS);

    HttpProbe viaA = new HttpProbe(a.httpPort());
    AtomicInteger refused = new AtomicInteger();
    AtomicInteger samples = new AtomicInteger();
    Set<Integer> recycled;
    try (ContinuousReads reads =
        ContinuousReads.start(
            checker,
            READERS,
            keys,
            (client, key) -> {
              Reply r = viaA.get("/v1/stores/" + STORE + "/keys/" + key);
              return ReadChecker.httpAnswer(
                  r.status(), r.header("Retry-After").orElse(null), r.body());
            })) {
      // Throughout the hand-over, node-a's index is compared with Kafka Streams' own view: a
      // partition it takes as serving must be active by that view just before or just after.
      List<String> wrong = new CopyOnWriteArrayList<>();
      AtomicBoolean sampling = new AtomicBoolean(true);
      ServingTasks index = a.servingTasks(ProfileNodes.STATE);
      Thread sampler =
          new Thread(
              () -> {
                while (sampling.get()) {
                  Set<Integer> activeBefore = active(a);
                  Set<Integer> serving = new HashSet<>();
                  for (int p = 0; p < PARTITIONS; p++) {
                    if (index.serving(new TaskId(0, p), STORE).isPresent()) {
                      serving.add(p);
                    }
                  }
                  Set<Integer> activeAfter = active(a);
                  for (int p : serving) {
                    if (!activeBefore.contains(p) && !activeAfter.contains(p)) {
                      wrong.add(
                          "partition " + p + " served, active " + activeBefore + "/" + activeAfter);
                    }
                  }
                  samples.incrementAndGet();
                }
              },
              "serving-sampler");
      sampler.start();
      BackboneNode b = start(kafka, settings, "node-b");
      try {
        await("node-b took tasks over and node-a keeps them as standbys")
            .atMost(PATIENCE)
            .until(() -> !standby(a).isEmpty() && !active(b).isEmpty());
        recycled = standby(a);
        int seen = samples.get();
        await("node-a's index sampled after the recycle")
            .atMost(PATIENCE)
            .until(() -> samples.get() > seen + 100);
      } finally {
        sampling.set(false);
        sampler.join();
      }
      assertThat(wrong).as("node-a's index against Kafka Streams' view").isEmpty();
      for (int p : recycled) {
        assertThat(index.serving(new TaskId(0, p), STORE))
            .as("partition %d, recycled to a standby on node-a", p)
            .isEmpty();
      }
      for (int p : active(a)) {
        assertThat(index.serving(new TaskId(0, p), STORE))
            .as("partition %d, still active on node-a", p)
            .isPresent();
      }

      // node-a's view of the routing pinned to an older table that names it the active of every
      // task, so that it reads the recycled partitions locally instead of forwarding them.
      ProfileNodes.pinEveryTaskOn(a, "node-a");
      try {
        for (String key : keys) {
          int partition = partitionOf(key);
          if (!recycled.contains(partition)) {
            continue;
          }
          for (int i = 0; i < READS_PER_KEY; i++) {
            boolean standbyBefore = standby(a).contains(partition);
            ReadChecker<JsonNode>.Read read = checker.begin("via-a-pinned", key);
            Reply r = viaA.get("/v1/stores/" + STORE + "/keys/" + key);
            read.end(
                ReadChecker.httpAnswer(r.status(), r.header("Retry-After").orElse(null), r.body()));
            boolean standbyAfter = standby(a).contains(partition);
            checker.assertNoViolations();
            if (standbyBefore && standbyAfter) {
              assertThat(r.status())
                  .as(
                      "partition %d is a standby on node-a (recycled from its active), read"
                          + " there as its owner: %s",
                      partition, r.body())
                  .isEqualTo(503);
              refused.incrementAndGet();
            }
          }
        }
      } finally {
        a.routing(ProfileNodes.STATE).unpin();
      }
      for (String key : keys) {
        await("a read of " + key + " through node-a, forwarded to the owner")
            .atMost(PATIENCE)
            .pollInterval(Duration.ofMillis(50))
            .until(
                () -> {
                  ReadChecker<JsonNode>.Read read = checker.begin("via-a-after", key);
                  Reply r = viaA.get("/v1/stores/" + STORE + "/keys/" + key);
                  read.end(
                      ReadChecker.httpAnswer(
                          r.status(), r.header("Retry-After").orElse(null), r.body()));
                  checker.assertNoViolations();
                  return r.status() == 200;
                });
      }
      assertThat(reads.completed()).as("reads while node-b joined").isPositive();
    }
    checker.assertNoViolations();
    assertThat(recycled).isNotEmpty();
    assertThat(refused.get()).as("reads of recycled partitions refused by node-a").isPositive();
  }

  private BackboneNode start(TestKafkaCluster kafka, PipelineSettings settings, String id)
      throws Exception {
    Properties extra = new Properties();
    extra.setProperty(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, "1");
    BackboneNode node =
        ProfileNodes.node(kafka, settings, id, Files.createTempDirectory("backbone-" + id), extra);
    node.start();
    nodes.add(node);
    return node;
  }

  /** The partitions a node runs as active tasks of the state stage, by Kafka Streams' own view. */
  private static Set<Integer> active(BackboneNode node) {
    return partitions(node, ThreadMetadata::activeTasks);
  }

  /** The partitions a node holds as standby tasks of the state stage, by Kafka Streams' view. */
  private static Set<Integer> standby(BackboneNode node) {
    return partitions(node, ThreadMetadata::standbyTasks);
  }

  private static Set<Integer> partitions(
      BackboneNode node, Function<ThreadMetadata, Set<TaskMetadata>> tasks) {
    Set<Integer> partitions = new HashSet<>();
    for (ThreadMetadata thread : node.streams(ProfileNodes.STATE).metadataForLocalThreads()) {
      partitions.addAll(
          tasks.apply(thread).stream()
              .map(t -> t.taskId().partition())
              .collect(Collectors.toSet()));
    }
    return partitions;
  }

  private static int partitionOf(String key) {
    byte[] bytes = new StringSerializer().serialize("", key);
    return Utils.toPositive(Utils.murmur2(bytes)) % PARTITIONS;
  }

  private static Set<Integer> prefixesOf(String key, JsonNode profile) {
    long cents = Integer.parseInt(key.substring(2)) * 100L + 50;
    boolean afterTheOrder =
        profile.path("totalSpendCents").asLong() == cents
            && profile.path("orders").asLong() == 1
            && profile.path("customerId").asText().equals(key);
    return afterTheOrder ? Set.of(1) : Set.of();
  }
}
