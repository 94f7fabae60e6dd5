package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.config.BackboneConfig;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.server.BackboneNode;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cold bootstrap end to end on a real broker, under exactly-once and continuous reads: a node's
 * state is lost (node closed, its directory deleted), a new node with an empty disk joins on the
 * same rack, and its standby of the state stage's store is filled by copying a snapshot from the
 * active over HTTP (the {@code backbone_bootstrap_copied_total} counter on its {@code /metrics})
 * and then replaying only the changelog after the snapshot's offset (its store's {@code
 * backbone-restored-records-total} stays under a tenth of the partition); processing continues,
 * every profile through every node ends equal to an independent oracle, and every answer the
 * readers got on the way is checked ({@link ReadChecker}). The other task's active moves to the new
 * node at once (an empty replica is within {@code acceptable.recovery.lag} of this small
 * changelog), and that new active without local state is filled the same way, from the standby its
 * old node keeps of it.
 */
@BackboneKafkaCluster(brokers = 1)
class ColdBootstrapIT {
  private static final int CUSTOMERS = 60;
  private static final long EVENTS = 2_000;
  private static final String SECRET = "cold-bootstrap-it-secret";
  private static final Pattern COPIED =
      Pattern.compile("(?m)^backbone_bootstrap_copied_total(?:\\{[^}]*\\})? ([0-9.E+]+)$");

  @TempDir Path stateRoot;
  private final List<BackboneNode> nodes = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeNodes() {
    nodes.stream().filter(n -> n != null).forEach(BackboneNode::close);
  }

  private static Properties bootstrapSettings() {
    Properties extra = new Properties();
    extra.put(BackboneConfig.CLUSTER_SECRET_CONFIG, SECRET);
    extra.put(BackboneConfig.BOOTSTRAP_MIN_LAG_RECORDS_CONFIG, "1");
    return extra;
  }

  private static final Pattern RESTORED =
      Pattern.compile(
          "(?m)^kafka_stream_state_backbone_restored_records_total\\{([^}]*)\\} ([0-9.E+]+)$");
  private static final Pattern TASK = Pattern.compile("task_id=\"\\d+_(\\d+)\"");

  private static double copiedOn(BackboneNode node) throws IOException, InterruptedException {
    Matcher m = COPIED.matcher(metricsOf(node));
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  /**
   * Whether some store partition of the node restored fewer than a tenth of its changelog's
   * records: a replica filled from a snapshot replays only the tail, one restored from the
   * changelog all.
   */
  private static boolean someReplicaRestoredOnlyATail(
      BackboneNode node, Map<TopicPartition, Long> changelogEnds)
      throws IOException, InterruptedException {
    Matcher m = RESTORED.matcher(metricsOf(node));
    while (m.find()) {
      Matcher task = TASK.matcher(m.group(1));
      if (!m.group(1).contains("customer-profiles") || !task.find()) {
        continue;
      }
      int partition = Integer.parseInt(task.group(1));
      long end =
          changelogEnds.entrySet().stream()
              .filter(e -> e.getKey().partition() == partition)
              .mapToLong(Map.Entry::getValue)
              .findFirst()
              .orElse(0);
      double restored = Double.parseDouble(m.group(2));
      if (end > 100 && restored < end / 10.0) {
        return true;
      }
    }
    return false;
  }

  private static String metricsOf(BackboneNode node) throws IOException, InterruptedException {
    HttpResponse<String> metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return metrics.body();
  }

  @Test
  void aNodeThatLostItsStateIsReplacedByOneFilledFromAPeersSnapshot(TestKafkaCluster kafka)
      throws Exception {
    CustomerProfilePipeline pipeline = ProfileFixtures.exactlyOncePipeline(kafka, "cold", 2);
    String appId = pipeline.settings().applicationId();
    nodes.add(
        ProfileFixtures.startNode(pipeline, kafka, stateRoot, 0, "rack-a", bootstrapSettings()));
    nodes.add(
        ProfileFixtures.startNode(pipeline, kafka, stateRoot, 1, "rack-b", bootstrapSettings()));

    List<Map.Entry<String, String>> events =
        ProfileFixtures.knownEvents(pipeline.settings().inputTopic(), CUSTOMERS, EVENTS, 11L, 0.0);
    ProfileOracle oracle = ProfileOracle.of(events);
    int half = events.size() / 2;
    ReadChecker<JsonNode> checker = new ReadChecker<>(oracle);
    ProfileFixtures.produceCommitted(kafka, pipeline, events.subList(0, half), checker);

    try (ContinuousReads reads =
        ProfileFixtures.readContinuously(
            checker,
            () -> nodes.stream().filter(n -> n != null).map(BackboneNode::httpPort).toList(),
            oracle.profiles().keySet())) {
      // node-1 is lost with its disk.
      BackboneNode lost = nodes.set(1, null);
      lost.close();
      deleteRecursively(stateRoot.resolve("node-1"));
      ProfileFixtures.produce(
          kafka, pipeline.settings().inputTopic(), events.subList(half, events.size()));

      // A new node with an empty disk joins on rack-b: the rack rule puts the replicas that rack
      // held on it, and its empty stores copy the active's snapshot.
      BackboneNode joined =
          ProfileFixtures.startNode(pipeline, kafka, stateRoot, 2, "rack-b", bootstrapSettings());
      nodes.add(joined);

      // Two tasks, two nodes, one standby each: the joined node holds one active and one standby
      // of the two tasks, and node-0 the other replica of each, so both have a source.
      await("the joined node filled both its replicas, active and standby, from node-0")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> copiedOn(joined) >= 2);
      await("every profile through every live node")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> ProfileFixtures.assertEveryProfileThroughEveryNode(nodes, oracle, checker));
      assertThat(reads.completed()).isPositive();
      Map<TopicPartition, Long> changelogEnds =
          kafka.endOffsets(appId + "-" + CustomerProfilePipeline.PROFILE_STORE + "-changelog");
      await("a replica on the joined node restored only a changelog tail")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> someReplicaRestoredOnlyATail(joined, changelogEnds));
    }
    checker.assertNoViolations();
  }

  /**
   * A node joins a healthy cluster: the assignor moves a task to it, and since its empty replica is
   * further behind than {@code acceptable.recovery.lag}, first as a warm-up (a standby to Kafka
   * Streams) while the active stays put. The warm-up is filled from the active's snapshot and
   * replays only a tail, not the whole changelog; every answer on the way is checked.
   */
  @Test
  void aNodeJoiningAHealthyClusterGetsItsWarmUpByBootstrap(TestKafkaCluster kafka)
      throws Exception {
    CustomerProfilePipeline pipeline = ProfileFixtures.exactlyOncePipeline(kafka, "warmup", 3);
    String appId = pipeline.settings().applicationId();
    Properties settings = bootstrapSettings();
    // Any replica that lacks more than a few records is warmed up before it takes the active.
    settings.put(StreamsConfig.ACCEPTABLE_RECOVERY_LAG_CONFIG, "10");
    nodes.add(ProfileFixtures.startNode(pipeline, kafka, stateRoot, 0, "rack-a", 0, settings));
    nodes.add(ProfileFixtures.startNode(pipeline, kafka, stateRoot, 1, "rack-b", 0, settings));

    List<Map.Entry<String, String>> events =
        ProfileFixtures.knownEvents(pipeline.settings().inputTopic(), CUSTOMERS, EVENTS, 13L, 0.0);
    ProfileOracle oracle = ProfileOracle.of(events);
    ReadChecker<JsonNode> checker = new ReadChecker<>(oracle);
    ProfileFixtures.produceCommitted(kafka, pipeline, events, checker);

    try (ContinuousReads reads =
        ProfileFixtures.readContinuously(
            checker,
            () -> nodes.stream().filter(n -> n != null).map(BackboneNode::httpPort).toList(),
            oracle.profiles().keySet())) {
      BackboneNode joined =
          ProfileFixtures.startNode(pipeline, kafka, stateRoot, 2, "rack-c", 0, settings);
      nodes.add(joined);

      await("the joined node warmed a replica up from a peer's snapshot")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> copiedOn(joined) >= 1);
      Map<TopicPartition, Long> changelogEnds =
          kafka.endOffsets(appId + "-" + CustomerProfilePipeline.PROFILE_STORE + "-changelog");
      await("the warmed-up replica restored only a changelog tail")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> someReplicaRestoredOnlyATail(joined, changelogEnds));
      await("every profile through every node")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> ProfileFixtures.assertEveryProfileThroughEveryNode(nodes, oracle, checker));
      assertThat(reads.completed()).isPositive();
    }
    checker.assertNoViolations();
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
