package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.bootstrap.BootstrapSource;
import dev.backbone.bootstrap.ChangelogTruncatedException;
import dev.backbone.bootstrap.CopyOrReplay;
import dev.backbone.bootstrap.PeerSnapshotFetcher;
import dev.backbone.rescale.GenerationChangelogs;
import dev.backbone.routing.Member;
import dev.backbone.routing.MemberState;
import dev.backbone.routing.RoutedMember;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingTable;
import dev.backbone.routing.RoutingTopics;
import dev.backbone.routing.TaskRoute;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

/**
 * The node's bootstrap plan against a real broker: the active from the routing table, the
 * changelog's delete.retention.ms and length read with Admin, and every reason not to copy.
 */
@BackboneKafkaCluster(brokers = 1)
class RoutingBootstrapSourceIT {
  private static final TaskId TASK = new TaskId(0, 1);
  private static final UUID SELF = new UUID(0, 1);
  private static final UUID OTHER = new UUID(0, 2);
  private static final PeerSnapshotFetcher FETCHER =
      new PeerSnapshotFetcher(
          new PeerSnapshotFetcher.Settings("0123456789abcdef", 1, 0, Duration.ofSeconds(5), 1));

  private static RoutingCache routing(String app, UUID active, MemberState otherState) {
    RoutingCache cache = new RoutingCache(app);
    cache.accept(
        new RoutingTable(
            app,
            1,
            1,
            List.of(
                new RoutedMember(SELF, "node-self", "rack-a"),
                new RoutedMember(OTHER, "node-other", "rack-b")),
            List.of(
                TaskRoute.unassigned(new TaskId(0, 0)),
                new TaskRoute(
                    TASK, Optional.of(active), List.of(active.equals(SELF) ? OTHER : SELF)))));
    cache.accept(new Member("node-other", "rack-b", "127.0.0.1:7999", otherState, 1));
    return cache;
  }

  /** Replays 1 record/s and copies 1,000 bytes/s (plus the fixed 3 s), to make the sums plain. */
  private static final CopyOrReplay SLOW = new CopyOrReplay(1, 1_000);

  private static RoutingBootstrapSource source(
      TestKafkaCluster kafka, RoutingCache cache, long minLag) {
    return new RoutingBootstrapSource(
        "node-self",
        app -> app.equals(cache.applicationId()) ? Optional.of(cache) : Optional.empty(),
        kafka::admin,
        FETCHER,
        minLag,
        SLOW,
        5,
        Optional.empty());
  }

  private static String changelogWithRecords(TestKafkaCluster kafka, String app, int records)
      throws Exception {
    String topic = app + "-s-changelog";
    // Created and waited for until its leaders take writes (TestKafkaCluster#createTopic).
    kafka.createTopic(
        topic,
        2,
        1,
        Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, "compact",
            TopicConfig.DELETE_RETENTION_MS_CONFIG, "3600000"));
    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>(topic, TASK.partition(), "k" + i, "v")).get();
      }
    }
    return topic;
  }

  private static BootstrapSource.Request request(String app) {
    return BootstrapSource.Request.empty(app, TASK, "s");
  }

  private static BootstrapSource.Request withLocalState(String app, long offset, long bytes) {
    return new BootstrapSource.Request(app, TASK, "s", OptionalLong.of(offset), bytes);
  }

  @Test
  void plansACopyFromTheActiveWithTheChangelogsRetention(TestKafkaCluster kafka) throws Exception {
    String app = kafka.uniqueName("plan");
    changelogWithRecords(kafka, app, 50);
    Optional<BootstrapSource.Plan> plan =
        source(kafka, routing(app, OTHER, MemberState.UP), 10).plan(request(app));

    assertThat(plan).isPresent();
    assertThat(plan.get().peers())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.nodeId()).isEqualTo("node-other");
              assertThat(p.endpoint().toString()).isEqualTo("http://127.0.0.1:7999");
            });
    assertThat(plan.get().changelogDeleteRetention()).isEqualTo(Duration.ofHours(1));
    assertThat(plan.get().reason()).contains("50 records");
  }

  @Test
  void aShortChangelogIsReplayedNotCopied(TestKafkaCluster kafka) throws Exception {
    String app = kafka.uniqueName("short");
    changelogWithRecords(kafka, app, 5);
    assertThat(source(kafka, routing(app, OTHER, MemberState.UP), 10).plan(request(app))).isEmpty();
  }

  @Test
  void noCopyFromItselfFromANodeThatLeftOrWithoutAChangelog(TestKafkaCluster kafka)
      throws Exception {
    String app = kafka.uniqueName("none");
    assertThat(source(kafka, routing(app, OTHER, MemberState.UP), 0).plan(request(app)))
        .as("no changelog topic: the store is not logged")
        .isEmpty();
    changelogWithRecords(kafka, app, 20);
    assertThat(source(kafka, routing(app, SELF, MemberState.UP), 0).plan(request(app)))
        .as("this node is the active without local state: it copies from its standby")
        .hasValueSatisfying(
            p -> {
              assertThat(p.peers()).extracting(x -> x.nodeId()).containsExactly("node-other");
              assertThat(p.reason()).contains("a standby on node-other");
            });
    assertThat(source(kafka, routing(app, OTHER, MemberState.LEFT), 0).plan(request(app)))
        .as("the active's node left, and the only standby is this node")
        .isEmpty();
    assertThat(source(kafka, new RoutingCache(app), 0).plan(request(app)))
        .as("no routing table yet")
        .isEmpty();
    assertThat(source(kafka, routing(app, OTHER, MemberState.UP), 0).plan(request(app)))
        .as("and with all that in order, a plan")
        .isPresent();
  }

  @Test
  void aStoreBackWithOldStateCopiesOnlyWhenThatBeatsReplayingItsTail(TestKafkaCluster kafka)
      throws Exception {
    String app = kafka.uniqueName("old");
    changelogWithRecords(kafka, app, 50); // offsets 0..49
    RoutingBootstrapSource source = source(kafka, routing(app, OTHER, MemberState.UP), 10);

    assertThat(source.plan(withLocalState(app, 45, 1_000)))
        .as("a tail of 4 records, under min.lag.records: replayed, whatever a copy would cost")
        .isEmpty();
    assertThat(source.plan(withLocalState(app, 0, 1_000_000)))
        .as("a tail of 49 records (~49 s) against a copy of 1 MB (~1,003 s): replayed")
        .isEmpty();
    Optional<BootstrapSource.Plan> plan = source.plan(withLocalState(app, 0, 1_000));
    assertThat(plan)
        .as("a tail of 49 records (~49 s) against a copy of 1,000 bytes (~4 s): copied")
        .isPresent();
    assertThat(plan.get().peers()).extracting(p -> p.nodeId()).containsExactly("node-other");
    assertThat(plan.get().reason())
        .contains("local state is behind")
        .contains("49 records takes ~49.0 s")
        .contains("~4.0 s");
  }

  @Test
  void aStoreWithOldStateAndNoRoutingTableDecidesWithoutWaitingForOne(TestKafkaCluster kafka)
      throws Exception {
    String app = kafka.uniqueName("notable");
    changelogWithRecords(kafka, app, 20);
    // The routing topic exists and holds a table this node has not read: an empty store waits up
    // to 5 s for it, a store whose tail is short must not.
    kafka.createTopic(RoutingTopics.routingTopic(app), 1);
    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      producer.send(new ProducerRecord<>(RoutingTopics.routingTopic(app), "t", "x")).get();
    }
    RoutingBootstrapSource source = source(kafka, new RoutingCache(app), 10);
    long start = System.nanoTime();
    assertThat(source.plan(withLocalState(app, 17, 1_000))).isEmpty();
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("decided from one ListOffsets, not after the table wait")
        .isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void aStandbyOnThisRackIsTriedFirstWithinTheLagBoundThenTheActiveOnAnother(TestKafkaCluster kafka)
      throws Exception {
    String app = kafka.uniqueName("rack");
    changelogWithRecords(kafka, app, 50); // end offset 50
    UUID activeOnB = new UUID(0, 3);
    UUID standbyOnA = new UUID(0, 4);
    UUID standbyOnC = new UUID(0, 5);
    RoutingCache cache = new RoutingCache(app);
    cache.accept(
        new RoutingTable(
            app,
            1,
            1,
            List.of(
                new RoutedMember(SELF, "node-self", "rack-a"),
                new RoutedMember(activeOnB, "node-b", "rack-b"),
                new RoutedMember(standbyOnA, "node-a2", "rack-a"),
                new RoutedMember(standbyOnC, "node-c", "rack-c")),
            List.of(
                TaskRoute.unassigned(new TaskId(0, 0)),
                new TaskRoute(TASK, Optional.of(activeOnB), List.of(standbyOnC, standbyOnA)))));
    cache.accept(new Member("node-b", "rack-b", "127.0.0.1:7001", MemberState.UP, 1));
    cache.accept(new Member("node-a2", "rack-a", "127.0.0.1:7002", MemberState.UP, 1));
    cache.accept(new Member("node-c", "rack-c", "127.0.0.1:7003", MemberState.UP, 1));

    BootstrapSource.Plan plan = source(kafka, cache, 10).plan(request(app)).orElseThrow();

    assertThat(plan.peers())
        .extracting(p -> p.nodeId())
        .as("same rack first, then the freshest, then the rest")
        .containsExactly("node-a2", "node-b", "node-c");
    assertThat(plan.lagBoundPeers())
        .as("only the same-rack standby tried before the active is held to the bound")
        .containsExactly("node-a2");
    assertThat(plan.minSourceOffset()).as("end 50, last record 49, bound 5").isEqualTo(44);
    assertThat(plan.reason())
        .contains("a standby on node-a2 (rack 'rack-a', this node's)")
        .contains("the active on node-b (rack 'rack-b')");
  }

  /**
   * A bounded changelog ({@code compact,delete}, as issue 12 makes them; Kafka refuses {@code
   * deleteRecords} on a compact-only topic) of {@code records} records, those before {@code
   * logStart} deleted as retention would.
   */
  private static void truncatedChangelog(
      TestKafkaCluster kafka, String app, int records, long logStart) throws Exception {
    String topic = app + "-s-changelog";
    kafka.createTopic(
        topic,
        2,
        1,
        Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, "compact,delete",
            TopicConfig.RETENTION_MS_CONFIG, "86400000",
            TopicConfig.DELETE_RETENTION_MS_CONFIG, "3600000"));
    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>(topic, TASK.partition(), "k" + i, "v")).get();
      }
    }
    TopicPartition tp = new TopicPartition(topic, TASK.partition());
    kafka
        .admin()
        .deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(logStart)))
        .all()
        .get(30, TimeUnit.SECONDS);
  }

  @Test
  void aStoreThatNeedsDeletedRecordsCopiesASnapshotThatCoversThemEvenForAShortChangelog(
      TestKafkaCluster kafka) throws Exception {
    String app = kafka.uniqueName("truncated");
    truncatedChangelog(kafka, app, 50, 20);
    // min lag 1,000: without the truncation an empty store would replay these 30 records.
    RoutingBootstrapSource source = source(kafka, routing(app, OTHER, MemberState.UP), 1_000);

    for (BootstrapSource.Request needsDeleted :
        List.of(request(app), withLocalState(app, 5, 1_000_000_000L))) {
      BootstrapSource.Plan plan = source.plan(needsDeleted).orElseThrow();
      assertThat(plan.required()).as("%s", needsDeleted).isTrue();
      assertThat(plan.minSourceOffset()).as("a snapshot covering offsets up to 19").isEqualTo(19);
      assertThat(plan.lagBoundPeers())
          .as("the bound holds for every source")
          .containsExactly("node-other");
      assertThat(plan.reason()).contains("starts at offset 20").contains("were deleted");
    }
    assertThat(source.plan(withLocalState(app, 19, 1_000)))
        .as("local state up to offset 19 needs only what is left: an ordinary replay")
        .isEmpty();
  }

  @Test
  void aStoreThatNeedsDeletedRecordsAndHasNoReplicaToCopyWaitsNamingTheMissingRange(
      TestKafkaCluster kafka) throws Exception {
    String app = kafka.uniqueName("lost");
    truncatedChangelog(kafka, app, 50, 20);
    for (RoutingCache cache :
        List.of(routing(app, OTHER, MemberState.LEFT), new RoutingCache(app))) {
      RoutingBootstrapSource source = source(kafka, cache, 10);
      assertThatThrownBy(() -> source.plan(withLocalState(app, 4, 1_000)))
          .isInstanceOf(ChangelogTruncatedException.class)
          .hasMessageContaining("task " + TASK)
          .hasMessageContaining("offsets 5 to 19 were deleted")
          .hasMessageContaining("nothing is replayed");
      assertThatThrownBy(() -> source.plan(request(app)))
          .isInstanceOf(ChangelogTruncatedException.class)
          .hasMessageContaining("offsets 0 to 19 were deleted");
    }
  }

  @Test
  void aNewGenerationsChangelogSendsAnEmptyStoreToASnapshotAndLetsAFirstSnapshotReplay(
      TestKafkaCluster kafka) throws Exception {
    String app = kafka.uniqueName("generation");
    String topic = app + "-s-changelog";
    Map<String, Object> clients = new java.util.HashMap<>();
    kafka.clientProperties().forEach((k, v) -> clients.put((String) k, v));
    GenerationChangelogs.create(kafka.admin(), clients, topic, 2, (short) 1);
    GenerationChangelogs.create(kafka.admin(), clients, topic, 2, (short) 1);
    TopicPartition tp = new TopicPartition(topic, TASK.partition());
    assertThat(
            kafka
                .admin()
                .listOffsets(Map.of(tp, OffsetSpec.earliest()))
                .partitionResult(tp)
                .get()
                .offset())
        .as("the base deleted, once, however often the step runs")
        .isEqualTo(1);
    assertThat(kafka.endOffsets(topic).get(tp)).isEqualTo(1);

    String used = app + "-used-changelog";
    kafka.createTopic(used, 1, 1, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact,delete"));
    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      producer.send(new ProducerRecord<>(used, 0, "k", "a real record")).get();
    }
    assertThatThrownBy(
            () -> GenerationChangelogs.create(kafka.admin(), clients, used, 1, (short) 1))
        .hasMessageContaining("no generation base")
        .hasMessageContaining("nothing was deleted");
    assertThat(kafka.readAllStrings(used, Duration.ofSeconds(10)))
        .extracting(r -> r.value())
        .containsExactly("a real record");

    BootstrapSource.Plan plan =
        source(kafka, routing(app, OTHER, MemberState.UP), 1_000).plan(request(app)).orElseThrow();
    assertThat(plan.required()).isTrue();
    assertThat(plan.minSourceOffset()).isEqualTo(GenerationChangelogs.BASE_OFFSET);
    assertThatThrownBy(
            () -> source(kafka, routing(app, OTHER, MemberState.LEFT), 10).plan(request(app)))
        .isInstanceOf(ChangelogTruncatedException.class)
        .hasMessageContaining("offsets 0 to 0 were deleted");
    assertThat(
            source(kafka, routing(app, OTHER, MemberState.UP), 1_000)
                .plan(withLocalState(app, GenerationChangelogs.BASE_OFFSET, 1_000)))
        .as("a store built from a first snapshot, at the base, replays what follows")
        .isEmpty();
  }
}
