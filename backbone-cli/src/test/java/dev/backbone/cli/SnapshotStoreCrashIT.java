package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.store.internals.BackboneKeyValueStore;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 of a node on Backbone stores under exactly-once, mid-stream: while it ran, every store
 * persisted offsets at its transaction commits (no task was closed); after the kill each holds a
 * committed offset past the previous run's; the restarted node reopens every store at a (data,
 * offset) pair committed together, Kafka Streams needs no task-corruption wipe, and every profile
 * is exact. Readers read every profile from the second run to the end, across the kill, and every
 * answer is checked ({@link ReadChecker}): a value served before the kill must not be lost by it.
 */
@BackboneKafkaCluster(brokers = 1)
class SnapshotStoreCrashIT {
  private static final String CORRUPTION_WIPE = "did not find checkpoint offsets";

  @TempDir Path dir;
  private Process child;
  private volatile int port = -1;
  private ContinuousReads reads;

  @AfterEach
  void stopChild() throws InterruptedException {
    if (reads != null) {
      reads.close();
    }
    if (child != null && child.isAlive()) {
      child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void killedMidStreamUnderExactlyOnceRestartsWithoutWipeAndExactProfiles(TestKafkaCluster kafka)
      throws Exception {
    String appId = kafka.uniqueName("crash");
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(
            new PipelineSettings(
                appId, appId + "-events", appId + "-dlq", 2, (short) 1, "exactly_once_v2"));
    pipeline.createTopics(kafka.admin());
    List<Map.Entry<String, String>> events =
        ProfileFixtures.knownEvents(pipeline.settings().inputTopic(), 200, 6_000, 11L, 0.02);
    ProfileOracle oracle = new ProfileOracle();
    events.forEach(e -> oracle.accept(e.getValue()));
    String changelog = appId + "-" + CustomerProfilePipeline.PROFILE_STORE + "-changelog";
    int third = events.size() / 3;
    int twoThirds = 2 * third;

    // Run 1: a first third, then a clean stop, so every store holds a committed offset.
    ProfileFixtures.produce(kafka, pipeline.settings().inputTopic(), events.subList(0, third));
    startChild(kafka, appId, "run-1");
    awaitChangelogGrowsBeyond(kafka, changelog, 0);
    child.destroy();
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
    Map<Path, Long> afterRun1 = storedOffsets(appId);
    assertThat(afterRun1).as("stores after a clean stop").isNotEmpty();

    // Run 2: a second third arrives; while the node runs, the stores persist an offset at every
    // transaction commit (100 ms under EOS), so the offsets on disk move on with no task closed.
    startChild(kafka, appId, "run-2");
    ReadChecker<JsonNode> checker = new ReadChecker<>(oracle);
    reads =
        ProfileFixtures.readContinuously(
            checker, () -> port < 0 ? List.of() : List.of(port), oracle.profiles().keySet());
    long before = changelogEnd(kafka, changelog);
    ProfileFixtures.produce(
        kafka, pipeline.settings().inputTopic(), events.subList(third, twoThirds));
    awaitChangelogGrowsBeyond(kafka, changelog, before);
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> advancedStores(afterRun1, storedOffsets(appId)) == afterRun1.size());
    // The last third arrives only now, so the node is certainly still processing when the
    // changelog first grows past this point; it is killed right then.
    long grown = changelogEnd(kafka, changelog);
    ProfileFixtures.produce(
        kafka, pipeline.settings().inputTopic(), events.subList(twoThirds, events.size()));
    awaitChangelogGrowsBeyond(kafka, changelog, grown);
    child.destroyForcibly();
    port = -1;
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    // After kill -9 every store still holds a committed offset (not dirty), past run 1's.
    Map<Path, Long> afterKill = storedOffsets(appId);
    assertThat(afterKill.keySet()).isEqualTo(afterRun1.keySet());
    assertThat(advancedStores(afterRun1, afterKill)).isEqualTo(afterRun1.size());

    // Run 3: restart; exact profiles, and no task-corruption wipe on the way.
    int restarted = startChild(kafka, appId, "run-3");
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () ->
                ProfileFixtures.assertEveryProfileThroughEveryNode(
                    Map.of("child", restarted), oracle, checker));
    assertThat(reads.completed()).isPositive();
    reads.close();
    checker.assertNoViolations();
    assertThat(Files.readString(dir.resolve("run-3.log"))).doesNotContain(CORRUPTION_WIPE);
  }

  private int startChild(TestKafkaCluster kafka, String appId, String run) throws IOException {
    ChildNode node =
        ChildNode.start(
            dir, run, kafka.bootstrapServers(), appId, dir.toString(), "exactly_once_v2");
    child = node.process();
    port = node.port();
    return port;
  }

  /**
   * The committed changelog offset of every profile store of the application on disk, read without
   * opening it for writing (the child may still run); a dirty store shows as -1.
   */
  private Map<Path, Long> storedOffsets(String appId) throws IOException {
    Map<Path, Long> offsets = new HashMap<>();
    Path state = dir.resolve("state");
    if (!Files.exists(state)) {
      return offsets;
    }
    try (Stream<Path> paths = Files.walk(state)) {
      for (Path store :
          paths
              .filter(p -> p.endsWith(Path.of("backbone", CustomerProfilePipeline.PROFILE_STORE)))
              .filter(p -> p.toString().contains(appId))
              .toList()) {
        offsets.put(
            store,
            BackboneKeyValueStore.committedOffsetsAt(store).values().stream()
                .mapToLong(Long::longValue)
                .max()
                .orElse(-1L));
      }
    }
    return offsets;
  }

  private static long advancedStores(Map<Path, Long> before, Map<Path, Long> now) {
    return before.entrySet().stream()
        .filter(e -> now.getOrDefault(e.getKey(), -1L) > e.getValue())
        .count();
  }

  private static long changelogEnd(TestKafkaCluster kafka, String changelog) {
    try {
      return kafka.endOffsets(changelog).values().stream().mapToLong(Long::longValue).sum();
    } catch (RuntimeException e) {
      return 0; // not created yet
    }
  }

  private static void awaitChangelogGrowsBeyond(
      TestKafkaCluster kafka, String changelog, long offset) {
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> changelogEnd(kafka, changelog) > offset);
  }
}
