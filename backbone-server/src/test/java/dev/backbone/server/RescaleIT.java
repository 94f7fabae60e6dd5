package dev.backbone.server;

import static dev.backbone.server.RescaleTesting.PATIENCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.rescale.RescalePlan;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.server.RescaleTesting.Load;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rescale end to end on a real broker: a two-node profile application under exactly-once goes
 * from 6 to 12, then 5, then 8 tasks while events keep arriving and readers read every customer
 * through both nodes. Every answer given along the way is checked ({@link ReadChecker}: a value
 * must be the customer's profile after some prefix of its events, never going backwards, never a
 * false "not found"); after each rescale, with the load held, every profile must equal the one its
 * events make, exactly once each; malformed events reach the DLQ exactly.
 */
@BackboneKafkaCluster(brokers = 1)
class RescaleIT {
  private static final String SECRET = "rescale-it-secret";
  private static final int CUSTOMERS = 40;

  private static TestKafkaCluster kafka;
  private static PipelineSettings settings;
  private static final List<BackboneNode> nodes = new ArrayList<>();

  @BeforeAll
  static void startTwoNodes(TestKafkaCluster cluster) throws Exception {
    kafka = cluster;
    settings = ProfileNodes.createPipeline(kafka, "rescale", 6, StreamsConfig.EXACTLY_ONCE_V2);
    Properties extra = new Properties();
    extra.setProperty("backbone.cluster.secret", SECRET);
    for (String id : List.of("node-a", "node-b")) {
      BackboneNode node =
          ProfileNodes.keyedNode(
              kafka, settings, id, Files.createTempDirectory("backbone-rescale"), extra);
      nodes.add(node);
      node.start();
    }
    await("both nodes ready")
        .atMost(PATIENCE)
        .until(() -> nodes.stream().allMatch(BackboneNode::isReady));
  }

  @AfterAll
  static void closeNodes() {
    nodes.forEach(BackboneNode::close);
  }

  @Test
  void sixToTwelveToFiveToEightUnderLoadLosesNothingCountsNothingTwiceAndNeverAnswersWrong()
      throws Exception {
    Load load = new Load(kafka, settings.inputTopic(), "", CUSTOMERS);
    ReadChecker<JsonNode> checker = new ReadChecker<>(load::prefixesOf);
    List<String> customers = load.customers();
    load.start();
    HttpProbe viaA = new HttpProbe(nodes.get(0).httpPort());
    HttpProbe viaB = new HttpProbe(nodes.get(1).httpPort());
    await("every customer has a profile")
        .atMost(PATIENCE)
        .until(
            () ->
                customers.stream().allMatch(c -> viaA.get(RescaleTesting.path(c)).status() == 200));
    customers.forEach(checker::mustExist);
    List<String> steps = new CopyOnWriteArrayList<>();
    Set<String> marks = ConcurrentHashMap.newKeySet();
    int generation = 0;
    try (ContinuousReads reads =
        ContinuousReads.start(
            checker,
            4,
            customers,
            (client, key) -> {
              Reply r = (client % 2 == 0 ? viaA : viaB).get(RescaleTesting.path(key));
              r.header("X-Backbone-State-Generation").ifPresent(marks::add);
              return ReadChecker.httpAnswer(
                  r.status(), r.header("Retry-After").orElse(null), r.body());
            })) {
      for (int to : List.of(12, 5, 8)) {
        RescalePlan plan;
        try (Rescaler rescaler =
            new Rescaler(
                RescaleTesting.settings(kafka, settings, nodes.get(0), SECRET),
                new Rescaler.Listener() {
                  @Override
                  public void stepDone(RescalePlan.Step step, String note) {
                    steps.add(step.name());
                  }
                })) {
          plan = rescaler.start(to);
        }
        generation++;
        assertThat(plan.step()).isEqualTo(RescalePlan.Step.CONFIRMED);
        assertThat(plan.toGeneration()).isEqualTo(generation);
        RescaleTesting.assertServes(kafka, settings, nodes, generation, to);
        // With the load held, every profile must be exactly what its events make.
        load.hold();
        try {
          RescaleTesting.awaitExact(load, viaA, customers);
          RescaleTesting.awaitExact(load, viaB, customers);
        } finally {
          load.release();
        }
      }
      assertThat(reads.completed()).isPositive();
    } finally {
      load.stop();
    }
    RescaleTesting.awaitExact(load, viaA, customers);
    checker.assertNoViolations();
    assertThat(checker.counts().freshValues()).isPositive();
    RescaleTesting.assertDlqExact(kafka, settings, load);
    assertThat(steps).contains("CONFIRMED", "SERVING", "RESUMED");
    // Answers say which generation gave them, and during a rescale which step it stood at.
    assertThat(marks).contains("state=0", "state=3");
    assertThat(marks).anyMatch(m -> m.startsWith("state=0; rescale="));
    assertThat(marks).allMatch(m -> m.matches("state=[0-3](; rescale=[A-Z_]+)?"));
    assertThat(load.sent.get()).as("events sent during the rescales").isGreaterThan(1_000);
  }
}
