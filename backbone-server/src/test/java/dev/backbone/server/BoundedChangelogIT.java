package dev.backbone.server;

import static dev.backbone.server.RescaleTesting.PATIENCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.bootstrap.internals.Directories;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.retention.ArchiveSettings;
import dev.backbone.retention.SnapshotArchive;
import dev.backbone.retention.SnapshotArchives;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.server.RescaleTesting.Load;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/**
 * Bounded changelogs end to end, under exactly-once and a continuous load: a node sets its
 * changelogs to {@code compact,delete} with a retention of seconds, the brokers really delete their
 * old segments, and the snapshot schedule keeps the archive (a directory) current. Then a brand-new
 * node fills its stores from a live peer, and after a whole-cluster loss (every node stopped, every
 * state directory wiped) two new nodes fill every store from the archive plus the changelog's tail.
 * Every answer read through the nodes along the way is checked, and every profile ends exact.
 */
@BackboneKafkaCluster(brokers = 1)
class BoundedChangelogIT {
  private static final String SECRET = "bounded-changelog-it-secret";
  private static final int PARTITIONS = 3;
  private static final int CUSTOMERS = 24;
  private static final long RETENTION_MS = 6_000;
  private static final long INTERVAL_MS = 2_000;

  @Test
  void aNewNodeCopiesFromAPeerAndAfterAWholeClusterLossFromTheArchiveEveryProfileExact(
      TestKafkaCluster kafka) throws Exception {
    PipelineSettings settings =
        ProfileNodes.createPipeline(kafka, "bounded", PARTITIONS, StreamsConfig.EXACTLY_ONCE_V2);
    String app = new CustomerProfilePipeline(settings).stateApplicationId();
    String changelog = app + "-" + CustomerProfilePipeline.PROFILE_STORE + "-changelog";
    Path archiveDir = Files.createTempDirectory("backbone-archive-it");
    Properties extra = new Properties();
    extra.setProperty("backbone.cluster.secret", SECRET);
    extra.setProperty("backbone.archive.uri", archiveDir.toUri().toString());
    extra.setProperty("backbone.changelog.retention.ms", Long.toString(RETENTION_MS));
    extra.setProperty("backbone.snapshot.interval.ms", Long.toString(INTERVAL_MS));
    extra.setProperty("backbone.archive.keep.snapshots", "2");
    // Every empty store copies when it can, however short its changelog.
    extra.setProperty("backbone.bootstrap.min.lag.records", "0");
    // A task that moves to the new node leaves a standby behind to copy from (without one the old
    // owner closes the store as the task moves, and only the archive is left).
    extra.setProperty(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, "1");

    Load load = new Load(kafka, settings.inputTopic(), "bounded-", CUSTOMERS);
    List<String> customers = load.customers();
    ReadChecker<JsonNode> checker = new ReadChecker<>(load::prefixesOf);
    List<BackboneNode> nodes = new ArrayList<>();
    List<Path> dirs = new ArrayList<>();
    try {
      nodes.add(start(kafka, settings, "node-a", dirs, extra));
      load.start();
      await("every customer has a profile")
          .atMost(PATIENCE)
          .until(
              () ->
                  customers.stream()
                      .allMatch(
                          c ->
                              new HttpProbe(nodes.get(0).httpPort())
                                      .get(RescaleTesting.path(c))
                                      .status()
                                  == 200));
      customers.forEach(checker::mustExist);

      try (ContinuousReads reads =
          ContinuousReads.start(
              checker,
              3,
              customers,
              (client, key) -> {
                BackboneNode node;
                synchronized (nodes) {
                  node = nodes.isEmpty() ? null : nodes.get(client % nodes.size());
                }
                if (node == null) {
                  return ReadChecker.httpAnswer(503, "1", "{}");
                }
                Reply r = new HttpProbe(node.httpPort()).get(RescaleTesting.path(key));
                return ReadChecker.httpAnswer(
                    r.status(), r.header("Retry-After").orElse(null), r.body());
              })) {
        // The node bounded its changelog: segments roll every 600 ms and go once 6 s old.
        await("the changelog is bounded")
            .atMost(PATIENCE)
            .until(
                () -> {
                  Config c = config(kafka, changelog);
                  return c.get(TopicConfig.CLEANUP_POLICY_CONFIG).value().equals("compact,delete")
                      && c.get(TopicConfig.RETENTION_MS_CONFIG)
                          .value()
                          .equals(Long.toString(RETENTION_MS))
                      && c.get(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG)
                          .value()
                          .equals(Long.toString(RETENTION_MS));
                });
        await("retention deleted the start of every changelog partition")
            .atMost(PATIENCE)
            .until(() -> logStarts(kafka, changelog).stream().allMatch(start -> start > 0));
        try (SnapshotArchive archive =
            SnapshotArchives.open(ArchiveSettings.of(archiveDir.toUri().toString()))) {
          await("every task archived")
              .atMost(PATIENCE)
              .until(
                  () ->
                      archive.inventory(app).stream()
                              .filter(
                                  s -> s.storeName().equals(CustomerProfilePipeline.PROFILE_STORE))
                              .count()
                          == PARTITIONS);
        }

        // A brand-new node: its stores need records the changelog no longer holds, and copy
        // them from the live peer.
        BackboneNode b = start(kafka, settings, "node-b", dirs, extra);
        synchronized (nodes) {
          nodes.add(b);
        }
        await("node-b copied from its peer")
            .atMost(PATIENCE)
            .until(() -> metric(b, "backbone_bootstrap_copied_total") >= 1);
        assertThat(metric(b, "backbone_bootstrap_archive_copied_total")).isZero();
        awaitExactThroughEveryNode(load, nodes, customers);

        // The whole cluster is lost: every node stopped (each archives its stores as it stops,
        // vouched through the changelog's end), every state directory wiped.
        List<BackboneNode> lost;
        synchronized (nodes) {
          lost = new ArrayList<>(nodes);
          nodes.clear();
        }
        lost.forEach(BackboneNode::close);
        for (Path dir : dirs) {
          assertThat(Directories.deleteRecursively(dir)).isNull();
        }
        int before = load.count(customers.get(0));
        await("the load went on while no node ran")
            .atMost(PATIENCE)
            .until(() -> load.count(customers.get(0)) > before + 20);
        // The cluster stays down longer than the retention, which goes on deleting: even the
        // last transaction's commit markers go, and only the archive holds the state.
        long stoppedAt = System.nanoTime();
        await("the cluster stays down longer than the changelog's retention")
            .atMost(PATIENCE)
            .until(
                () ->
                    System.nanoTime() - stoppedAt
                        > TimeUnit.MILLISECONDS.toNanos(RETENTION_MS + 3_000));
        assertThat(logStarts(kafka, changelog)).allMatch(start -> start > 0);

        BackboneNode c = start(kafka, settings, "node-c", dirs, extra);
        BackboneNode d = start(kafka, settings, "node-d", dirs, extra);
        synchronized (nodes) {
          nodes.add(c);
          nodes.add(d);
        }
        await("every store filled from the archive")
            .atMost(PATIENCE)
            .until(
                () ->
                    metric(c, "backbone_bootstrap_archive_copied_total")
                            + metric(d, "backbone_bootstrap_archive_copied_total")
                        >= PARTITIONS);
        awaitExactThroughEveryNode(load, nodes, customers);
        assertThat(reads.completed()).isPositive();
      }
      checker.assertNoViolations();
      assertThat(checker.counts().freshValues()).isPositive();
      load.stop();
      RescaleTesting.assertDlqExact(kafka, settings, load);
    } finally {
      load.stop();
      synchronized (nodes) {
        nodes.forEach(BackboneNode::close);
      }
    }
  }

  private static BackboneNode start(
      TestKafkaCluster kafka,
      PipelineSettings settings,
      String id,
      List<Path> dirs,
      Properties extra)
      throws Exception {
    Path dir = Files.createTempDirectory("backbone-bounded-" + id);
    dirs.add(dir);
    BackboneNode node = ProfileNodes.node(kafka, settings, id, dir, extra);
    node.start();
    return node;
  }

  private static void awaitExactThroughEveryNode(
      Load load, List<BackboneNode> nodes, List<String> customers) {
    load.hold();
    try {
      List<BackboneNode> now;
      synchronized (nodes) {
        now = List.copyOf(nodes);
      }
      for (BackboneNode node : now) {
        RescaleTesting.awaitExact(load, new HttpProbe(node.httpPort()), customers);
      }
    } finally {
      load.release();
    }
  }

  private static Config config(TestKafkaCluster kafka, String topic) throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    return kafka
        .admin()
        .describeConfigs(List.of(resource))
        .all()
        .get(30, TimeUnit.SECONDS)
        .get(resource);
  }

  private static List<Long> logStarts(TestKafkaCluster kafka, String topic) throws Exception {
    Map<TopicPartition, OffsetSpec> earliest = new java.util.HashMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      earliest.put(new TopicPartition(topic, p), OffsetSpec.earliest());
    }
    return kafka.admin().listOffsets(earliest).all().get(30, TimeUnit.SECONDS).values().stream()
        .map(o -> o.offset())
        .toList();
  }

  private static final Pattern SAMPLE = Pattern.compile("^(\\S+?)(\\{[^}]*\\})? (\\S+)$");

  /** The sum of a counter's samples in a node's {@code /metrics}; 0 while it does not answer. */
  private static double metric(BackboneNode node, String name) {
    double sum = 0;
    String body;
    try {
      body = new HttpProbe(node.httpPort()).get("/metrics").body();
    } catch (java.io.UncheckedIOException e) {
      return 0; // a node busy starting; the await asks again
    }
    for (String line : body.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (m.matches() && m.group(1).equals(name)) {
        sum += Double.parseDouble(m.group(3));
      }
    }
    return sum;
  }
}
