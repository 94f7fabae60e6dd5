package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

/**
 * Generation numbering (no broker: the sends fail in the background and are only logged, which is
 * what a publisher does when Kafka is away).
 */
class RoutingPublisherTest {
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

  private static RoutingTable table() {
    return new RoutingTable("app", 0, 0, List.of(), List.of());
  }
}
