package dev.backbone.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.examples.profiles.CustomerProfile;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.CustomerProfileSerde;
import dev.backbone.examples.profiles.EventParser;
import dev.backbone.examples.profiles.ParsedEvent;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.rescale.RescalePlan;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
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
  private static final Duration PATIENCE = Duration.ofSeconds(180);
  private static final ObjectMapper MAPPER = new ObjectMapper();

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
    Load load = new Load();
    ReadChecker<JsonNode> checker = new ReadChecker<>(load::prefixesOf);
    List<String> customers = new ArrayList<>();
    for (int i = 0; i < CUSTOMERS; i++) {
      customers.add("c-" + i);
    }
    load.start();
    HttpProbe viaA = new HttpProbe(nodes.get(0).httpPort());
    HttpProbe viaB = new HttpProbe(nodes.get(1).httpPort());
    await("every customer has a profile")
        .atMost(PATIENCE)
        .until(() -> customers.stream().allMatch(c -> viaA.get(path(c)).status() == 200));
    customers.forEach(checker::mustExist);
    List<String> steps = new CopyOnWriteArrayList<>();
    int generation = 0;
    try (ContinuousReads reads =
        ContinuousReads.start(
            checker,
            4,
            customers,
            (client, key) -> {
              Reply r = (client % 2 == 0 ? viaA : viaB).get(path(key));
              return ReadChecker.httpAnswer(
                  r.status(), r.header("Retry-After").orElse(null), r.body());
            })) {
      for (int to : List.of(12, 5, 8)) {
        RescalePlan plan;
        try (Rescaler rescaler = new Rescaler(rescalerSettings(), listener(steps))) {
          plan = rescaler.start(to);
        }
        generation++;
        assertThat(plan.step()).isEqualTo(RescalePlan.Step.CONFIRMED);
        assertThat(plan.toGeneration()).isEqualTo(generation);
        assertThat(partitionCount(keyedTopic(generation))).isEqualTo(to);
        for (BackboneNode node : nodes) {
          JsonNode stage = stageOf(new HttpProbe(node.httpPort()));
          assertThat(stage.path("generation").asInt()).as(node.nodeId()).isEqualTo(generation);
          assertThat(stage.path("otherGenerations").isMissingNode()).as(node.nodeId()).isTrue();
        }
        // With the load held, every profile must be exactly what its events make.
        load.hold();
        try {
          awaitExact(load, viaA, customers);
          awaitExact(load, viaB, customers);
        } finally {
          load.release();
        }
      }
      assertThat(reads.completed()).isPositive();
    } finally {
      load.stop();
    }
    awaitExact(load, viaA, customers);
    checker.assertNoViolations();
    assertThat(checker.counts().freshValues()).isPositive();
    // Every malformed event in the DLQ once (read_committed: the commit markers are no records).
    await("every malformed event in the DLQ")
        .atMost(PATIENCE)
        .until(
            () ->
                kafka.readAllStrings(settings.dlqTopic(), Duration.ofSeconds(30)).size()
                    >= load.malformed.get());
    assertThat(
            kafka.readAllStrings(settings.dlqTopic(), Duration.ofSeconds(30)).stream()
                .map(r -> r.value())
                .toList())
        .containsExactlyInAnyOrderElementsOf(load.malformedValues);
    assertThat(steps).contains("CONFIRMED", "SERVING", "RESUMED");
    assertThat(load.sent.get()).as("events sent during the rescales").isGreaterThan(1_000);
  }

  private static Rescaler.Settings rescalerSettings() {
    Map<String, Object> client = new HashMap<>();
    kafka.clientProperties().forEach((k, v) -> client.put(k.toString(), v));
    return new Rescaler.Settings(
        URI.create("http://127.0.0.1:" + nodes.get(0).httpPort()),
        SECRET,
        null,
        client,
        ProfileNodes.STATE,
        (short) 1,
        Duration.ofSeconds(120));
  }

  private static Rescaler.Listener listener(List<String> steps) {
    return new Rescaler.Listener() {
      @Override
      public void stepDone(RescalePlan.Step step, String note) {
        steps.add(step.name());
      }
    };
  }

  private static String keyedTopic(int generation) {
    return KeyedStateStage.inputTopic(
        new CustomerProfilePipeline(settings).stateApplicationId(), generation);
  }

  private static int partitionCount(String topic) throws Exception {
    return kafka
        .admin()
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get(30, TimeUnit.SECONDS)
        .get(topic)
        .partitions()
        .size();
  }

  private static JsonNode stageOf(HttpProbe http) {
    for (JsonNode stage : http.get("/v1/cluster").json().path("stages")) {
      if (stage.path("name").asText().equals(ProfileNodes.STATE)) {
        return stage;
      }
    }
    throw new AssertionError("no state stage in /v1/cluster");
  }

  private static void awaitExact(Load load, HttpProbe http, List<String> customers) {
    await("every profile exact")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              for (String c : customers) {
                Reply r = http.get(path(c));
                if (r.status() != 200
                    || !r.json().path("value").equals(load.expected(c, load.count(c)))) {
                  return false;
                }
              }
              return true;
            });
  }

  private static String path(String customer) {
    return "/v1/stores/" + CustomerProfilePipeline.PROFILE_STORE + "/keys/" + customer;
  }

  /**
   * Events for every customer, round after round, until stopped; every 10th round one malformed
   * event. A customer's i-th event views sku {@code s<i>}, so its profile after k events is known.
   */
  private static final class Load {
    final AtomicLong sent = new AtomicLong();
    final AtomicLong malformed = new AtomicLong();
    final List<String> malformedValues = new CopyOnWriteArrayList<>();
    private final Map<String, List<String>> events = new ConcurrentHashMap<>();
    private final ReentrantLock holding = new ReentrantLock();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread = new Thread(this::run, "rescale-it-load");

    void start() {
      thread.setDaemon(true);
      thread.start();
    }

    void hold() {
      holding.lock();
    }

    void release() {
      holding.unlock();
    }

    void stop() throws InterruptedException {
      running.set(false);
      thread.join(TimeUnit.SECONDS.toMillis(30));
    }

    int count(String customer) {
      return events.getOrDefault(customer, List.of()).size();
    }

    private void run() {
      try (KafkaProducer<String, String> producer =
          kafka.producer(new StringSerializer(), new StringSerializer())) {
        for (int round = 0; round < 20_000 && running.get(); round++) {
          holding.lock();
          try {
            for (int i = 0; i < CUSTOMERS; i++) {
              String id = "c-" + i;
              List<String> list = events.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>());
              String event = ProfileNodes.event(id, "view", "s" + list.size(), "0");
              // Recorded before it is sent: a read may show it as soon as it is processed.
              list.add(event);
              producer.send(new ProducerRecord<>(settings.inputTopic(), id, event));
              sent.incrementAndGet();
            }
            if (round % 10 == 0) {
              String bad = "not json " + round;
              producer.send(new ProducerRecord<>(settings.inputTopic(), "bad", bad));
              malformedValues.add(bad);
              malformed.incrementAndGet();
            }
            producer.flush();
          } finally {
            holding.unlock();
          }
          Thread.sleep(50);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** The profile after the first {@code k} events of the customer, as the API serves it. */
    JsonNode expected(String customer, int k) {
      List<String> list = events.getOrDefault(customer, List.of());
      CustomerProfile profile = CustomerProfile.empty(customer);
      for (int i = 0; i < k; i++) {
        ParsedEvent parsed = EventParser.parse(list.get(i).getBytes(StandardCharsets.UTF_8), 0);
        profile = profile.apply(((ParsedEvent.Valid) parsed).event());
      }
      try {
        return MAPPER.readTree(CustomerProfileSerde.toJson(profile));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    Set<Integer> prefixesOf(String customer, JsonNode profile) {
      int k = profile.path("counts").path("view").asInt(-1);
      if (k < 1 || k > count(customer)) {
        return Set.of();
      }
      return profile.equals(expected(customer, k)) ? Set.of(k) : Set.of();
    }
  }
}
