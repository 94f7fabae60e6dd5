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
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.testkit.TestKafkaCluster;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

/** What the rescale ITs share: a load with a known outcome, and checks of the nodes. */
final class RescaleTesting {
  static final Duration PATIENCE = Duration.ofSeconds(180);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private RescaleTesting() {}

  /** The customer ids a {@link Load} with this prefix and count sends events for. */
  static List<String> customers(String prefix, int count) {
    List<String> customers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      customers.add(prefix + "c-" + i);
    }
    return customers;
  }

  static Rescaler.Settings settings(
      TestKafkaCluster kafka, PipelineSettings pipeline, BackboneNode seed, String secret) {
    Map<String, Object> client = new HashMap<>();
    kafka.clientProperties().forEach((k, v) -> client.put(k.toString(), v));
    return new Rescaler.Settings(
        URI.create("http://127.0.0.1:" + seed.httpPort()),
        secret,
        null,
        client,
        ProfileNodes.STATE,
        (short) 1,
        Duration.ofSeconds(120),
        new CustomerProfilePipeline(pipeline).stateApplicationId());
  }

  static String keyedTopic(PipelineSettings pipeline, int generation) {
    return KeyedStateStage.inputTopic(
        new CustomerProfilePipeline(pipeline).stateApplicationId(), generation);
  }

  static int partitionCount(TestKafkaCluster kafka, String topic) throws Exception {
    return kafka
        .admin()
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get(30, TimeUnit.SECONDS)
        .get(topic)
        .partitions()
        .size();
  }

  /** The state stage as a node's {@code GET /v1/cluster} shows it. */
  static JsonNode stateStage(BackboneNode node) {
    for (JsonNode stage : new HttpProbe(node.httpPort()).get("/v1/cluster").json().path("stages")) {
      if (stage.path("name").asText().equals(ProfileNodes.STATE)) {
        return stage;
      }
    }
    throw new AssertionError("no state stage in /v1/cluster of " + node.nodeId());
  }

  /** Every node serves {@code generation} alone, whose input has {@code partitions} partitions. */
  static void assertServes(
      TestKafkaCluster kafka,
      PipelineSettings pipeline,
      List<BackboneNode> nodes,
      int generation,
      int partitions)
      throws Exception {
    assertThat(partitionCount(kafka, keyedTopic(pipeline, generation))).isEqualTo(partitions);
    for (BackboneNode node : nodes) {
      JsonNode stage = stateStage(node);
      assertThat(stage.path("generation").asInt()).as(node.nodeId()).isEqualTo(generation);
      assertThat(stage.path("otherGenerations").isMissingNode()).as(node.nodeId()).isTrue();
    }
  }

  static String path(String customer) {
    return "/v1/stores/" + CustomerProfilePipeline.PROFILE_STORE + "/keys/" + customer;
  }

  /** Waits until every customer's profile, read through {@code http}, is what its events make. */
  static void awaitExact(Load load, HttpProbe http, List<String> customers) {
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

  /**
   * Every malformed event of {@code load} reached the DLQ, once ({@code read_committed}: the commit
   * markers are no records).
   */
  static void assertDlqExact(TestKafkaCluster kafka, PipelineSettings pipeline, Load load) {
    await("every malformed event in the DLQ")
        .atMost(PATIENCE)
        .until(() -> load.inDlq(kafka, pipeline).size() >= load.malformed.get());
    assertThat(load.inDlq(kafka, pipeline))
        .containsExactlyInAnyOrderElementsOf(load.malformedValues);
  }

  /**
   * Events for every customer, round after round, until stopped; every 10th round one malformed
   * event. A customer's i-th event views sku {@code s<i>}, so its profile after k events is known.
   */
  static final class Load {
    final AtomicLong sent = new AtomicLong();
    final AtomicLong malformed = new AtomicLong();
    final List<String> malformedValues = new CopyOnWriteArrayList<>();
    private final TestKafkaCluster kafka;
    private final String topic;
    private final List<String> customers;
    private final String prefix;
    private final Map<String, List<String>> events = new ConcurrentHashMap<>();
    private final ReentrantLock holding = new ReentrantLock();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread = new Thread(this::run, "rescale-it-load");

    /** A load for customers {@code <prefix>c-0 .. <prefix>c-(customers-1)}, none of any other. */
    Load(TestKafkaCluster kafka, String topic, String prefix, int customers) {
      this.kafka = kafka;
      this.topic = topic;
      this.prefix = prefix;
      this.customers = RescaleTesting.customers(prefix, customers);
    }

    List<String> customers() {
      return customers;
    }

    /** The DLQ records this load's malformed events became. */
    List<String> inDlq(TestKafkaCluster kafka, PipelineSettings pipeline) {
      return kafka.readAllStrings(pipeline.dlqTopic(), Duration.ofSeconds(30)).stream()
          .map(r -> r.value())
          .filter(v -> v.startsWith("not json " + prefix))
          .toList();
    }

    void start() {
      thread.setDaemon(true);
      thread.start();
    }

    /** Holds the load after its current round (the caller's thread must {@link #release}). */
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
            for (String id : customers) {
              List<String> list = events.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>());
              String event = ProfileNodes.event(id, "view", "s" + list.size(), "0");
              // Recorded before it is sent: a read may show it as soon as it is processed.
              list.add(event);
              producer.send(new ProducerRecord<>(topic, id, event));
              sent.incrementAndGet();
            }
            if (round % 10 == 0) {
              String bad = "not json " + prefix + round;
              producer.send(new ProducerRecord<>(topic, "bad", bad));
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

    /** The oracle of {@link dev.backbone.testkit.ReadChecker}: k if the profile is state(k). */
    Set<Integer> prefixesOf(String customer, JsonNode profile) {
      int k = profile.path("counts").path("view").asInt(-1);
      if (k < 1 || k > count(customer)) {
        return Set.of();
      }
      return profile.equals(expected(customer, k)) ? Set.of(k) : Set.of();
    }
  }
}
