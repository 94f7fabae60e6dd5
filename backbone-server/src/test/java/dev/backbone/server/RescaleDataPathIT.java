package dev.backbone.server;

import static dev.backbone.server.ProfileNodes.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.bootstrap.PeerSnapshotFetcher;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.rescale.Drain;
import dev.backbone.rescale.SnapshotCollector;
import dev.backbone.rescale.SnapshotSplit;
import dev.backbone.rescale.SstEntries;
import dev.backbone.routing.KeyToTask;
import dev.backbone.routing.RoutingTable;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The data steps of a rescale on a running two-node application of the profile pipeline: drained
 * ({@link Drain} on the state stage's real consumer group), every task's snapshot copied from the
 * node that runs it ({@link SnapshotCollector}, through the lending endpoints, each copy at least
 * at its changelog's last offset), and split into 4 and into 9 tasks ({@link SnapshotSplit}). The
 * split must hold every customer once, in the task the partitioner gives it, with the profile the
 * events made (every customer viewed exactly three times).
 */
@BackboneKafkaCluster(brokers = 1)
class RescaleDataPathIT {
  private static final String SECRET = "rescale-data-path-secret";
  private static final int CUSTOMERS = 120;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static TestKafkaCluster kafka;
  private static PipelineSettings settings;
  private static final List<BackboneNode> nodes = new ArrayList<>();

  @BeforeAll
  static void startTwoNodes(TestKafkaCluster cluster) throws Exception {
    kafka = cluster;
    settings = ProfileNodes.createPipeline(kafka, "rescale-data", 6);
    Properties extra = new Properties();
    extra.setProperty("backbone.cluster.secret", SECRET);
    for (String id : List.of("node-a", "node-b")) {
      BackboneNode node =
          ProfileNodes.node(kafka, settings, id, Files.createTempDirectory("backbone-rd"), extra);
      nodes.add(node);
      node.start();
    }
    await("both nodes ready")
        .atMost(Duration.ofSeconds(120))
        .until(() -> nodes.stream().allMatch(BackboneNode::isReady));
  }

  @AfterAll
  static void closeNodes() {
    nodes.forEach(BackboneNode::close);
  }

  @Test
  void drainedSnapshotsOfEveryTaskSplitIntoAnyTaskCountHoldEveryProfileOnceWhereItBelongs()
      throws Exception {
    List<String[]> events = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < CUSTOMERS; i++) {
        String id = "c-" + i;
        events.add(new String[] {id, event(id, "view", "sku-" + round, "0")});
      }
    }
    ProfileNodes.send(kafka, settings.inputTopic(), events);
    CustomerProfilePipeline pipeline = new CustomerProfilePipeline(settings);
    String keyed = pipeline.keyedEventsTopic();
    await("the state stage drained its input")
        .atMost(Duration.ofSeconds(120))
        .until(
            () ->
                kafka.endOffsetSum(keyed) == events.size()
                    && Drain.check(
                            kafka.admin(),
                            kafka.bootstrapServers(),
                            pipeline.stateApplicationId(),
                            keyed,
                            Duration.ofSeconds(30))
                        .drained());

    String changelog =
        pipeline.stateApplicationId() + "-" + CustomerProfilePipeline.PROFILE_STORE + "-changelog";
    Map<TaskId, Long> minOffsets = new HashMap<>();
    for (int p = 0; p < 6; p++) {
      TopicPartition tp = new TopicPartition(changelog, p);
      long end =
          kafka
              .admin()
              .listOffsets(Map.of(tp, OffsetSpec.latest()))
              .partitionResult(tp)
              .get(30, TimeUnit.SECONDS)
              .offset();
      minOffsets.put(new TaskId(0, p), end - 1);
    }
    RoutingTable table = nodes.get(0).routing(ProfileNodes.STATE).table();
    Map<String, URI> endpoints = new HashMap<>();
    nodes.forEach(n -> endpoints.put(n.nodeId(), URI.create("http://127.0.0.1:" + n.httpPort())));
    PeerSnapshotFetcher fetcher =
        new PeerSnapshotFetcher(
            new PeerSnapshotFetcher.Settings(SECRET, 2, 0, Duration.ofSeconds(10), 2));
    Path work = Files.createTempDirectory("rescale-work");
    List<SnapshotCollector.Copied> copies =
        SnapshotCollector.collect(
            fetcher,
            table,
            id -> Optional.ofNullable(endpoints.get(id)),
            0,
            CustomerProfilePipeline.PROFILE_STORE,
            minOffsets,
            work.resolve("old"),
            Duration.ofSeconds(60));
    assertThat(copies).hasSize(6);
    copies.forEach(
        c ->
            assertThat(c.changelogOffset())
                .as("copy of %s from %s", c.task(), c.from())
                .isGreaterThanOrEqualTo(minOffsets.get(c.task())));

    for (int to : List.of(4, 9)) {
      SnapshotSplit.Result split =
          SnapshotSplit.split(
              copies.stream().map(SnapshotCollector.Copied::directory).toList(),
              to,
              work.resolve("split-" + to),
              (k, b) -> {});
      Map<String, JsonNode> profiles = new HashMap<>();
      for (SnapshotSplit.Target target : split.targets()) {
        if (target.file().isEmpty()) {
          continue;
        }
        for (byte[][] kv : SstEntries.read(target.file().get())) {
          assertThat(KeyToTask.partition(kv[0], to)).isEqualTo(target.partition());
          String customer = new String(kv[0], StandardCharsets.UTF_8);
          // A timestamped store's value: the record's 8-byte timestamp, then the serde's JSON.
          JsonNode profile = MAPPER.readTree(Arrays.copyOfRange(kv[1], Long.BYTES, kv[1].length));
          assertThat(profiles.put(customer, profile)).as("%s twice", customer).isNull();
        }
      }
      assertThat(profiles.keySet())
          .containsExactlyInAnyOrderElementsOf(
              IntStream.range(0, CUSTOMERS).mapToObj(i -> "c-" + i).toList());
      profiles.forEach(
          (customer, profile) ->
              assertThat(profile.at("/counts/view").asLong()).as(customer).isEqualTo(3));
    }
  }
}
