package dev.backbone.routing;

import dev.backbone.routing.internals.CoalescingPublisher;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one application's routing: tables (from the group leader's assignor) and this node's
 * membership records. One per node and application, owned by the node and open as long as it is;
 * thread-safe.
 *
 * <p>What must hold: {@link #publish(RoutingTable)} never waits for a broker. It is called by the
 * assignor on the group leader's stream thread, inside the rebalance (see {@link
 * RoutingPublishingTaskAssignor}), where a {@code KafkaProducer#send} would wait up to {@code
 * max.block.ms} for the routing topic's metadata when the topic is missing. So it only numbers the
 * table and hands it to a {@link CoalescingPublisher}, whose one thread sends it with this
 * publisher's single, long-lived producer and waits for the broker's acknowledgement: the newest
 * table only (an older one still waiting is dropped), retried with backoff until it is acknowledged
 * or a newer table replaces it, and dropped unsent when the cache has already read a newer
 * generation (another leader published meanwhile). Every failure is logged and counted in {@link
 * #status()}; readers keep the previous table meanwhile, which is safe: a table decides where a
 * read is sent, never whether it is answered.
 *
 * <p>Generations: a table gets {@code max(last numbered here, highest seen in the cache) + 1}, and
 * never less than the wall clock in milliseconds. The first term continues the sequence of a node
 * whose cache has read the previous leader's tables; the wall clock continues it for a new leader
 * whose cache has not (yet), unless its clock is behind by more than the time since that table.
 */
public final class RoutingPublisher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RoutingPublisher.class);

  /**
   * The producer's {@code max.block.ms}: how long one send waits for the metadata of a topic. It
   * bounds an attempt of the publishing thread (and a membership announcement); a rebalance never
   * waits for it.
   */
  static final Duration METADATA_WAIT = Duration.ofSeconds(10);

  /** How long the publishing thread waits for the broker to acknowledge a table. */
  static final Duration ACK_WAIT = Duration.ofSeconds(30);

  static final Duration RETRY_MIN = Duration.ofMillis(200);
  static final Duration RETRY_MAX = Duration.ofSeconds(5);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  /** After the first failure of a streak, a warning every this many attempts. */
  private static final long WARN_EVERY = 12;

  private final String applicationId;
  private final String routingTopic;
  private final RoutingCache cache;
  private final KafkaProducer<byte[], byte[]> producer;
  private final CoalescingPublisher<RoutingTable> tables;
  private volatile long lastGeneration;

  /**
   * What the publisher has done, for metrics.
   *
   * @param latestGeneration the generation of the newest table handed over, 0 before any
   * @param publishedGeneration the generation of the last table the broker acknowledged, 0 before
   *     any
   * @param waiting whether a table handed over is not acknowledged yet
   * @param failedAttempts attempts to publish a table that failed, since the publisher started
   */
  public record Status(
      long latestGeneration, long publishedGeneration, boolean waiting, long failedAttempts) {}

  /**
   * A publisher, with its producer and its publishing thread.
   *
   * @param producerConfigs producer settings (bootstrap servers, security); {@code max.block.ms} is
   *     capped at ten seconds
   * @param cache the node's cache of the same application, for the generation sequence
   */
  public RoutingPublisher(Map<String, Object> producerConfigs, RoutingCache cache) {
    this.cache = Objects.requireNonNull(cache, "cache");
    this.applicationId = cache.applicationId();
    this.routingTopic = RoutingTopics.routingTopic(applicationId);
    Map<String, Object> configs = new HashMap<>(producerConfigs);
    Object maxBlock = configs.get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
    long maxBlockMs =
        maxBlock == null
            ? Long.MAX_VALUE
            : (Long) ConfigDef.parseType(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlock, Type.LONG);
    configs.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Math.min(maxBlockMs, METADATA_WAIT.toMillis()));
    this.producer =
        new KafkaProducer<>(configs, new ByteArraySerializer(), new ByteArraySerializer());
    Object clientId = configs.get(CommonClientConfigs.CLIENT_ID_CONFIG);
    this.tables =
        new CoalescingPublisher<>(
            "backbone-routing-publisher-" + (clientId == null ? applicationId : clientId),
            this::send,
            table -> cache.highestGenerationSeen() > table.generation(),
            new Logging(),
            RETRY_MIN,
            RETRY_MAX);
  }

  /** The application whose routing this publisher writes. */
  public String applicationId() {
    return applicationId;
  }

  /**
   * Numbers a table with the next generation and hands it to the publishing thread; returns at once
   * (see the class comment). Failures are logged and retried there; the table is dropped if a newer
   * one is handed over first, or after {@link #close()}.
   *
   * @return the table with its generation, as it will be published
   */
  public synchronized RoutingTable publish(RoutingTable table) {
    long generation =
        Math.max(
            Math.max(lastGeneration, cache.highestGenerationSeen()) + 1,
            System.currentTimeMillis());
    lastGeneration = generation;
    RoutingTable numbered = table.withGeneration(generation);
    if (!tables.offer(numbered)) {
      log.warn(
          "Routing table generation {} of {} not published: the publisher is closed",
          generation,
          applicationId);
    }
    return numbered;
  }

  /** Runs on the publishing thread: one table, sent and acknowledged. */
  private void send(RoutingTable table) throws Exception {
    byte[] value = RoutingCodec.encode(table);
    try {
      producer
          .send(
              new ProducerRecord<>(
                  routingTopic, 0, applicationId.getBytes(StandardCharsets.UTF_8), value))
          .get(ACK_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
    log.info(
        "Published routing table generation {} of {}: {} tasks, {} members, {} bytes",
        table.generation(),
        applicationId,
        table.tasks().size(),
        table.members().size(),
        value.length);
  }

  /** The publishing thread's log: the first failure of a streak, then every few, and the end. */
  private final class Logging implements CoalescingPublisher.Listener<RoutingTable> {
    @Override
    public void delivered(RoutingTable table, long failedAttempts) {
      if (failedAttempts > 0) {
        log.info(
            "Routing table generation {} of {} is published after {} failed attempt(s)",
            table.generation(),
            applicationId,
            failedAttempts);
      }
    }

    @Override
    public void failed(RoutingTable table, Exception failure, long attempt, Duration retryIn) {
      if (attempt == 1 || attempt % WARN_EVERY == 0) {
        log.warn(
            "Could not publish routing table generation {} of {} to {} (attempt {}: {}); retrying"
                + " every {} ms at most while nodes keep their previous table. Check that the"
                + " topic exists (nodes create it when they start) and that the brokers are"
                + " reachable.",
            table.generation(),
            applicationId,
            routingTopic,
            attempt,
            failure.toString(),
            RETRY_MAX.toMillis());
      } else {
        log.debug(
            "Routing table generation {} of {}: attempt {} failed: {}",
            table.generation(),
            applicationId,
            attempt,
            failure.toString());
      }
    }

    @Override
    public void superseded(RoutingTable table) {
      log.info(
          "Routing table generation {} of {} not published: {} already holds generation {}",
          table.generation(),
          applicationId,
          routingTopic,
          cache.highestGenerationSeen());
    }
  }

  /** What the publisher has done so far. */
  public Status status() {
    return new Status(
        lastGeneration,
        tables.lastDelivered().map(RoutingTable::generation).orElse(0L),
        tables.waiting(),
        tables.failedAttempts());
  }

  /**
   * Publishes a membership record and waits until the broker has it. Called when a node starts and
   * stops, never inside a rebalance.
   *
   * @throws IllegalStateException if the broker did not acknowledge it within {@code timeout}, or
   *     the members topic had no metadata within ten seconds
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

  /**
   * Stops the publishing thread (a table not yet acknowledged is dropped; the next leader publishes
   * its own), then closes the producer. Bounded by a few seconds.
   */
  @Override
  public void close() {
    try {
      if (!tables.close(CLOSE_WAIT)) {
        log.warn("The routing publisher of {} did not stop within {}", applicationId, CLOSE_WAIT);
      }
    } finally {
      producer.close(CLOSE_WAIT);
    }
  }
}
