package dev.backbone.routing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one application's routing: tables (from the group leader's assignor) and this node's
 * membership records. One per node and application; thread-safe.
 *
 * <p>Generations: a table gets {@code max(last published here, highest seen in the cache) + 1}, so
 * the sequence continues when another node becomes the group leader (its cache has read the
 * previous leader's tables).
 */
public final class RoutingPublisher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RoutingPublisher.class);

  private final String applicationId;
  private final RoutingCache cache;
  private final KafkaProducer<byte[], byte[]> producer;
  private long lastGeneration;

  /**
   * A publisher.
   *
   * @param producerConfigs producer settings (bootstrap servers, security)
   * @param cache the node's cache of the same application, for the generation sequence
   */
  public RoutingPublisher(Map<String, Object> producerConfigs, RoutingCache cache) {
    this.cache = Objects.requireNonNull(cache, "cache");
    this.applicationId = cache.applicationId();
    this.producer =
        new KafkaProducer<>(producerConfigs, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** The application whose routing this publisher writes. */
  public String applicationId() {
    return applicationId;
  }

  /**
   * Publishes a table under the next generation, asynchronously: it runs inside a rebalance, which
   * must not wait for the brokers. Failures are logged; the next rebalance publishes again.
   *
   * @return the table as published, with its generation
   */
  public synchronized RoutingTable publish(RoutingTable table) {
    // Never below the wall clock: a new leader whose cache has not read the previous table yet
    // still continues the sequence, unless its clock is behind by more than the time since then.
    long generation =
        Math.max(
            Math.max(lastGeneration, cache.highestGenerationSeen()) + 1,
            System.currentTimeMillis());
    lastGeneration = generation;
    RoutingTable published = table.withGeneration(generation);
    byte[] value = RoutingCodec.encode(published);
    producer.send(
        new ProducerRecord<>(
            RoutingTopics.routingTopic(applicationId),
            0,
            applicationId.getBytes(StandardCharsets.UTF_8),
            value),
        (metadata, e) -> {
          if (e != null) {
            log.warn(
                "Could not publish routing table generation {} of {}: {}",
                generation,
                applicationId,
                e.toString());
          }
        });
    log.info(
        "Published routing table generation {} of {}: {} tasks, {} members, {} bytes",
        generation,
        applicationId,
        published.tasks().size(),
        published.members().size(),
        value.length);
    return published;
  }

  /**
   * Publishes a membership record and waits until the broker has it.
   *
   * @throws IllegalStateException if the broker did not acknowledge it within {@code timeout}
   */
  public void publish(Member member, Duration timeout) {
    try {
      producer
          .send(
              new ProducerRecord<>(
                  RoutingTopics.membersTopic(applicationId),
                  0,
                  member.nodeId().getBytes(StandardCharsets.UTF_8),
                  RoutingCodec.encode(member)))
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "Could not announce node "
              + member.nodeId()
              + " as "
              + member.state()
              + " on "
              + RoutingTopics.membersTopic(applicationId)
              + ": "
              + e,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while announcing " + member.nodeId(), e);
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
