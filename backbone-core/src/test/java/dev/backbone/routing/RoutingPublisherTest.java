package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

/**
 * The publisher without a broker: generation numbering, the hand-off, and what it counts. The sends
 * fail on the publishing thread (the producer finds no metadata within {@code max.block.ms}), which
 * is what a publisher sees when Kafka or the routing topic is away.
 */
class RoutingPublisherTest {
  private static final Duration HAND_OFF_BOUND = Duration.ofMillis(200);
  private static final Map<String, Object> NO_BROKER =
      Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
          "127.0.0.1:1",
          ProducerConfig.MAX_BLOCK_MS_CONFIG,
          50);

  @Test
  void aNewLeaderThatHasSeenNoTableStillNumbersAboveTheLastOne() {
    RoutingCache cache = new RoutingCache("app");
    long before = System.currentTimeMillis();
    try (RoutingPublisher publisher = new RoutingPublisher(NO_BROKER, cache)) {
      long first = publisher.publish(table()).generation();
      long second = publisher.publish(table()).generation();
      // A previous leader numbered its tables 1, 2, 3, ...; this one has read none of them.
      assertThat(first).isGreaterThanOrEqualTo(before);
      assertThat(second).isGreaterThan(first);
    }
  }

  @Test
  void continuesTheHighestGenerationSeenWhenItIsAhead() {
    RoutingCache cache = new RoutingCache("app");
    long ahead = System.currentTimeMillis() + 3_600_000;
    cache.accept(table().withGeneration(ahead));
    try (RoutingPublisher publisher = new RoutingPublisher(NO_BROKER, cache)) {
      assertThat(publisher.publish(table()).generation()).isEqualTo(ahead + 1);
    }
  }

  @Test
  void handsATableOverWithoutWaitingForTheBroker() {
    // No broker answers, so the producer never gets metadata for the routing topic: a send waits
    // in KafkaProducer#waitOnMetadata for max.block.ms (60 s by default, as a node's producer
    // settings leave it; the publisher caps it at 10 s for its own thread). A publisher is called
    // inside a rebalance and must not wait at all.
    Map<String, Object> defaults = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1");
    try (RoutingPublisher publisher = new RoutingPublisher(defaults, new RoutingCache("app"))) {
      for (int i = 0; i < 3; i++) {
        long start = System.nanoTime();
        publisher.publish(table());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(HAND_OFF_BOUND);
      }
    }
  }

  @Test
  void countsFailedAttemptsAndKeepsTheTableWaitingWhileNoBrokerAnswers() {
    try (RoutingPublisher publisher = new RoutingPublisher(NO_BROKER, new RoutingCache("app"))) {
      long generation = publisher.publish(table()).generation();

      await().atMost(Duration.ofSeconds(10)).until(() -> publisher.status().failedAttempts() >= 2);
      RoutingPublisher.Status status = publisher.status();
      assertThat(status.latestGeneration()).isEqualTo(generation);
      assertThat(status.publishedGeneration()).isZero();
      assertThat(status.waiting()).isTrue();
    }
  }

  private static RoutingTable table() {
    return new RoutingTable("app", 0, 0, List.of(), List.of());
  }
}
