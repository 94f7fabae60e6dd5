package dev.backbone.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.examples.profiles.StoreKind;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.server.internals.PositionTokens;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.query.Position;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Under exactly-once an HTTP read sees committed state only, and its position token is the position
 * of exactly what it saw.
 *
 * <p>One node counts events per key with a long commit interval, so a transaction stays open for
 * seconds. While readers read every key, a round of events is processed into the open transaction
 * (one of them for a key that had no event yet), and then a fault event aborts that transaction
 * ({@code TaskMigratedException}: {@code StreamThread#handleTaskMigrated} closes every task dirty
 * and rejoins); the events are processed again and committed later. Stock Kafka Streams' IQv2 would
 * show the open transaction's counts (from the record cache and the store's uncommitted writes) and
 * then lose them: a count going backwards, a key vanishing. Every answer must be a committed count,
 * never below one the reader saw, and its count must equal the number of the key's events at or
 * below the offset its position token names.
 */
@BackboneKafkaCluster(brokers = 1)
class CommittedReadsIT {
  private static final Duration PATIENCE = Duration.ofSeconds(120);
  private static final int KEYS = 20;
  private static final int COMMITTED_ROUNDS = 3;

  /** Long enough that the round under test and the fault fall into one open transaction. */
  private static final long COMMIT_INTERVAL_MS = 10_000;

  private BackboneNode node;

  @AfterEach
  void closeNode() {
    if (node != null) {
      node.close();
    }
  }

  @ParameterizedTest
  @EnumSource(StoreKind.class)
  void readsUnderExactlyOnceSeeCommittedStateOnly(StoreKind store, TestKafkaCluster kafka)
      throws Exception {
    CountingNodes.App app =
        CountingNodes.App.create(kafka, "committed", 1, StreamsConfig.EXACTLY_ONCE_V2, store);
    CountingNodes.FaultSwitch fault =
        new CountingNodes.FaultSwitch(CountingNodes.FaultKind.MIGRATE_TASK);
    Properties stage = new Properties();
    stage.setProperty(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.toString(COMMIT_INTERVAL_MS));
    // Kafka Streams refuses a transaction timeout below the commit interval.
    stage.setProperty(
        StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), "60000");
    // KIP-892: stores keep a transaction's writes apart until it commits (the contract with the
    // Backbone store: its query honours QueryConfig#getIsolationLevel()).
    stage.setProperty(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG, "true");
    node =
        CountingNodes.node(
            kafka, app, "node-a", Files.createTempDirectory("backbone-committed"), fault, stage);
    node.start();
    HttpProbe http = new HttpProbe(node.httpPort());

    List<String> keys = new ArrayList<>();
    for (int k = 0; k < KEYS; k++) {
      keys.add("k-" + k);
    }
    String fresh = "k-new";
    Map<String, List<Long>> offsets = new ConcurrentHashMap<>();
    try (KafkaProducer<String, String> producer =
        kafka.producer(new StringSerializer(), new StringSerializer())) {
      for (int round = 0; round < COMMITTED_ROUNDS; round++) {
        for (String key : keys) {
          send(producer, app.topic(), key, "e", offsets);
        }
      }
      producer.flush();
      await("the first rounds committed")
          .atMost(PATIENCE)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> kafka.hasCommittedToEnd(app.applicationId(), app.topic()));

      List<String> read = new ArrayList<>(keys);
      read.add(fresh);
      ReadChecker<JsonNode> checker = new ReadChecker<>(CommittedReadsIT::prefixesOf);
      keys.forEach(checker::mustExist);
      List<String> positionViolations = new CopyOnWriteArrayList<>();
      try (ContinuousReads reads =
          ContinuousReads.start(
              checker,
              3,
              read,
              (client, key) -> {
                Reply r = http.get("/v1/stores/" + CountingNodes.STORE + "/keys/" + key);
                checkPosition(key, r, app.topic(), offsets, positionViolations);
                return ReadChecker.httpAnswer(
                    r.status(), r.header("Retry-After").orElse(null), r.body());
              })) {
        // Just after a commit: the next one is COMMIT_INTERVAL_MS away.
        for (String key : keys) {
          send(producer, app.topic(), key, "e", offsets);
        }
        send(producer, app.topic(), fresh, "e", offsets);
        producer.flush();
        // Time for the readers to be shown the open transaction, if anything shows it.
        Thread.sleep(2_000);
        send(producer, app.topic(), keys.get(0), CountingNodes.FAULT, offsets);
        producer.flush();
        await("the fault fired").atMost(PATIENCE).until(fault::fired);
        await("everything committed again")
            .atMost(PATIENCE)
            .pollInterval(Duration.ofMillis(200))
            .until(
                () ->
                    kafka.hasCommittedToEnd(app.applicationId(), app.topic())
                        && node.isReady()
                        && countOf(http, fresh) == 1
                        && countOf(http, keys.get(0)) == COMMITTED_ROUNDS + 1);
        assertThat(reads.completed()).isPositive();
      }

      checker.assertNoViolations();
      assertThat(positionViolations).as("answers whose position is not what they saw").isEmpty();
      assertThat(checker.counts().freshValues()).isPositive();
    }
  }

  private static void send(
      KafkaProducer<String, String> producer,
      String topic,
      String key,
      String value,
      Map<String, List<Long>> offsets)
      throws Exception {
    RecordMetadata sent = producer.send(new ProducerRecord<>(topic, key, value)).get();
    if (!CountingNodes.FAULT.equals(value)) {
      offsets.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(sent.offset());
    }
  }

  /**
   * A count must be the number of the key's events at or below the offset of the topic's partition
   * that the answer's position names: the position of exactly the state it read.
   */
  private static void checkPosition(
      String key, Reply r, String topic, Map<String, List<Long>> offsets, List<String> violations) {
    if (r.status() != 200) {
      return;
    }
    JsonNode body = r.json();
    Position position = PositionTokens.decode(body.path("position").asText());
    Long seen = position.getPartitionPositions(topic).get(0);
    long count = body.path("value").asLong();
    long expected =
        seen == null
            ? 0
            : offsets.getOrDefault(key, List.of()).stream().filter(o -> o <= seen).count();
    if (count != expected) {
      violations.add(
          key
              + " = "
              + count
              + " but its position "
              + position
              + " covers "
              + expected
              + " event(s)");
    }
  }

  private static long countOf(HttpProbe http, String key) {
    Reply r = http.get("/v1/stores/" + CountingNodes.STORE + "/keys/" + key);
    return r.status() == 200 ? r.json().path("value").asLong() : -1;
  }

  private static Set<Integer> prefixesOf(String key, JsonNode count) {
    long n = count.asLong(-1);
    return count.isIntegralNumber() && n >= 1 && n <= COMMITTED_ROUNDS + 1
        ? Set.of((int) n)
        : Set.of();
  }
}
