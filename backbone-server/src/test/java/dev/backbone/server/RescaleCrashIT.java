package dev.backbone.server;

import static dev.backbone.server.RescaleTesting.PATIENCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.errors.BackboneException;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.rescale.RescalePlan;
import dev.backbone.rescale.RescalePlan.Step;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.server.RescaleTesting.Load;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A rescale's coordinator killed after every step (its work done, not yet recorded: the worst
 * place, since the step is then redone), nodes restarted in the middle (one while the old
 * generation is paused, the builder of the new one after its states were staged), aborts before and
 * refused after {@code SERVING}, and the refusals of a rescale that must not start. Through it all,
 * under load and exactly-once, every answer is checked and the end state is exact.
 */
@BackboneKafkaCluster(brokers = 1)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RescaleCrashIT {
  private static final String SECRET = "rescale-crash-it-secret";
  private static final int CUSTOMERS = 30;

  private static TestKafkaCluster kafka;
  private static PipelineSettings settings;
  private static final List<BackboneNode> nodes = new ArrayList<>();
  private static final List<Path> dirs = new ArrayList<>();
  private static final Properties extra = new Properties();

  @BeforeAll
  static void startTwoNodes(TestKafkaCluster cluster) throws Exception {
    kafka = cluster;
    settings =
        ProfileNodes.createPipeline(kafka, "rescale-crash", 6, StreamsConfig.EXACTLY_ONCE_V2);
    extra.setProperty("backbone.cluster.secret", SECRET);
    for (String id : List.of("node-a", "node-b")) {
      Path dir = Files.createTempDirectory("backbone-rescale-crash");
      dirs.add(dir);
      BackboneNode node = ProfileNodes.keyedNode(kafka, settings, id, dir, extra);
      nodes.add(node);
      node.start();
    }
    awaitReady();
  }

  @AfterAll
  static void closeNodes() {
    nodes.forEach(BackboneNode::close);
  }

  private static void awaitReady() {
    await("both nodes ready")
        .atMost(PATIENCE)
        .until(() -> nodes.stream().allMatch(BackboneNode::isReady));
  }

  /** Closes a node and starts it again on the same state directory (a new HTTP port). */
  private static synchronized void restart(int index) {
    BackboneNode old = nodes.get(index);
    old.close();
    BackboneNode again =
        ProfileNodes.keyedNode(kafka, settings, old.nodeId(), dirs.get(index), extra);
    again.start();
    nodes.set(index, again);
    awaitReady();
  }

  private static synchronized HttpProbe via(int index) {
    return new HttpProbe(nodes.get(index).httpPort());
  }

  private static Rescaler rescaler(Rescaler.Listener listener) {
    return new Rescaler(RescaleTesting.settings(kafka, settings, nodes.get(0), SECRET), listener);
  }

  /** Thrown by the listener: the coordinator dies after the step's work, before recording it. */
  private static final class Crash extends RuntimeException {
    final Step step;

    Crash(Step step) {
      super("coordinator killed after the work of " + step);
      this.step = step;
    }
  }

  private static Rescaler.Listener crashingAt(Set<Step> crashOnce) {
    return new Rescaler.Listener() {
      @Override
      public void stepPerformed(Step step, String note) {
        if (crashOnce.remove(step)) {
          throw new Crash(step);
        }
      }
    };
  }

  @Test
  @Order(1)
  void aCoordinatorKilledAfterEveryStepAndNodesRestartedMidwayEndAtTheExactResult()
      throws Exception {
    Load load = new Load(kafka, settings.inputTopic(), "crash-", CUSTOMERS);
    List<String> customers = load.customers();
    ReadChecker<JsonNode> checker = new ReadChecker<>(load::prefixesOf);
    load.start();
    await("every customer has a profile")
        .atMost(PATIENCE)
        .until(
            () ->
                customers.stream()
                    .allMatch(c -> via(0).get(RescaleTesting.path(c)).status() == 200));
    customers.forEach(checker::mustExist);
    Set<Step> toCrash = EnumSet.range(Step.SNAPSHOTTED, Step.CONFIRMED);
    List<Step> crashed = new ArrayList<>();
    RescalePlan plan = null;
    try (ContinuousReads reads =
        ContinuousReads.start(
            checker,
            4,
            customers,
            (client, key) -> {
              Reply r = via(client % 2).get(RescaleTesting.path(key));
              return ReadChecker.httpAnswer(
                  r.status(), r.header("Retry-After").orElse(null), r.body());
            })) {
      for (int attempt = 0; attempt < 14 && plan == null; attempt++) {
        try (Rescaler rescaler = rescaler(crashingAt(toCrash))) {
          plan = attempt == 0 ? rescaler.start(9) : rescaler.resume();
        } catch (Crash c) {
          crashed.add(c.step);
          if (c.step == Step.DRAINED) {
            restart(1); // in the pause: its feeder must stay paused, its new generation is started
          } else if (c.step == Step.CREATED) {
            restart(0); // the builder: the staged states are gone with it
          }
        }
      }
      assertThat(reads.completed()).isPositive();
    }
    assertThat(crashed).containsExactlyElementsOf(EnumSet.range(Step.SNAPSHOTTED, Step.CONFIRMED));
    assertThat(plan).isNotNull();
    assertThat(plan.step()).isEqualTo(Step.CONFIRMED);
    RescaleTesting.assertServes(kafka, settings, nodes, 1, 9);
    load.hold();
    try {
      RescaleTesting.awaitExact(load, via(0), customers);
      RescaleTesting.awaitExact(load, via(1), customers);
    } finally {
      load.release();
    }
    load.stop();
    checker.assertNoViolations();
    assertThat(checker.counts().freshValues()).isPositive();
    RescaleTesting.assertDlqExact(kafka, settings, load);
  }

  @Test
  @Order(2)
  void anAbortBeforeServingRestoresTheOldGenerationAndAnAbortAfterItIsRefused() throws Exception {
    Load load = new Load(kafka, settings.inputTopic(), "abort-", CUSTOMERS);
    List<String> customers = load.customers();
    load.start();
    try {
      // Killed after creating generation 2's topics, then rolled back.
      assertThatThrownBy(
              () -> {
                try (Rescaler r = rescaler(crashingAt(EnumSet.of(Step.CREATED)))) {
                  r.start(4);
                }
              })
          .isInstanceOf(Crash.class);
      RescalePlan aborted;
      try (Rescaler r = rescaler(null)) {
        aborted = r.abort();
      }
      assertThat(aborted.step()).isEqualTo(Step.ABORTED);
      RescaleTesting.assertServes(kafka, settings, nodes, 1, 9);
      assertThat(kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS))
          .doesNotContain(RescaleTesting.keyedTopic(settings, 2));
      // The feeder runs again on generation 1: new events are processed, exactly.
      int before = load.count(customers.get(0));
      await("the load goes on")
          .atMost(PATIENCE)
          .until(() -> load.count(customers.get(0)) > before + 5);
      load.hold();
      try {
        RescaleTesting.awaitExact(load, via(0), customers);
      } finally {
        load.release();
      }

      // Killed after the feeder resumed on generation 2 (recorded: SERVING): it may have written
      // there, so there is no way back, only forward.
      try (Rescaler r = rescaler(crashingAt(EnumSet.of(Step.RESUMED)))) {
        assertThatThrownBy(() -> r.start(4)).isInstanceOf(Crash.class);
      }
      try (Rescaler r = rescaler(null)) {
        assertThatThrownBy(r::abort)
            .isInstanceOf(BackboneException.class)
            .hasMessageContaining("cannot be rolled back")
            .extracting(e -> ((BackboneException) e).code())
            .isEqualTo("RESCALE_INVALID");
        assertThat(r.resume().step()).isEqualTo(Step.CONFIRMED);
      }
      RescaleTesting.assertServes(kafka, settings, nodes, 2, 4);
      load.hold();
      try {
        RescaleTesting.awaitExact(load, via(0), customers);
        RescaleTesting.awaitExact(load, via(1), customers);
      } finally {
        load.release();
      }
    } finally {
      load.stop();
    }
    RescaleTesting.assertDlqExact(kafka, settings, load);
  }

  @Test
  @Order(3)
  void aRescaleThatMustNotStartIsRefusedWithItsReason() throws Exception {
    try (Rescaler r = rescaler(null)) {
      assertThatThrownBy(() -> r.start(0))
          .extracting(e -> ((BackboneException) e).code())
          .isEqualTo("RESCALE_INVALID");
      assertThatThrownBy(() -> r.start(4))
          .hasMessageContaining("has 4 partitions already")
          .extracting(e -> ((BackboneException) e).code())
          .isEqualTo("RESCALE_INVALID");
    }
    Rescaler.Settings good = RescaleTesting.settings(kafka, settings, nodes.get(0), SECRET);
    try (Rescaler r =
        new Rescaler(
            new Rescaler.Settings(
                good.seed(),
                good.clusterSecret(),
                null,
                good.kafka(),
                ProfileNodes.INGEST,
                good.replicationFactor(),
                good.stepTimeout(),
                null),
            null)) {
      assertThatThrownBy(() -> r.start(3))
          .hasMessageContaining("not a keyed state stage")
          .extracting(e -> ((BackboneException) e).code())
          .isEqualTo("RESCALE_UNSUPPORTED");
    }
    try (Rescaler r =
        new Rescaler(
            new Rescaler.Settings(
                good.seed(),
                good.clusterSecret(),
                null,
                good.kafka(),
                good.stage(),
                good.replicationFactor(),
                good.stepTimeout(),
                "some-other-app"),
            null)) {
      assertThatThrownBy(() -> r.start(3))
          .hasMessageContaining("not some-other-app")
          .extracting(e -> ((BackboneException) e).code())
          .isEqualTo("RESCALE_INVALID");
    }
    // One rescale at a time: a second one is refused while the first has not ended.
    try (Rescaler r = rescaler(crashingAt(EnumSet.of(Step.INGEST_PAUSED)))) {
      assertThatThrownBy(() -> r.start(3)).isInstanceOf(Crash.class);
    }
    try (Rescaler r = rescaler(null)) {
      assertThatThrownBy(() -> r.start(5))
          .hasMessageContaining("--resume")
          .extracting(e -> ((BackboneException) e).code())
          .isEqualTo("RESCALE_RUNNING");
      assertThat(r.abort().step()).isEqualTo(Step.ABORTED);
    }
    // Paused and rolled back: the feeder runs again, so the nodes are ready.
    awaitReady();
    for (BackboneNode node : nodes) {
      assertThat(RescaleTesting.stateStage(node).path("generation").asInt()).isEqualTo(2);
    }
  }
}
