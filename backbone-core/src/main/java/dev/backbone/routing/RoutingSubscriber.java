package dev.backbone.routing;

import dev.backbone.errors.BackboneException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link RoutingCache} up to date: one thread reads both routing topics from the beginning
 * and then follows them. It uses no consumer group (partitions are assigned, offsets are never
 * committed), so a restarted node reads the compacted topics again and ends with the latest state.
 */
public final class RoutingSubscriber implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RoutingSubscriber.class);
  private static final Duration POLL = Duration.ofMillis(200);

  private final RoutingCache cache;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread thread;
  private volatile boolean closed;

  /**
   * Starts following the routing of the cache's application.
   *
   * @param consumerConfigs consumer settings (bootstrap servers, security); no group id needed
   * @param cache the cache to feed
   * @param threadName name of the reading thread
   */
  public RoutingSubscriber(
      Map<String, Object> consumerConfigs, RoutingCache cache, String threadName) {
    this.cache = Objects.requireNonNull(cache, "cache");
    this.consumer =
        new KafkaConsumer<>(
            consumerConfigs, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    String appId = cache.applicationId();
    List<TopicPartition> partitions =
        List.of(
            new TopicPartition(RoutingTopics.membersTopic(appId), 0),
            new TopicPartition(RoutingTopics.routingTopic(appId), 0));
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    this.thread = new Thread(this::run, threadName);
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    String routingTopic = RoutingTopics.routingTopic(cache.applicationId());
    try {
      while (!closed) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
          if (record.value() == null) {
            continue;
          }
          try {
            if (record.topic().equals(routingTopic)) {
              cache.accept(RoutingCodec.decodeTable(record.value()));
            } else {
              cache.accept(RoutingCodec.decodeMember(record.value()));
            }
          } catch (BackboneException e) {
            log.warn("Skipping {}-{}@{}: {}", record.topic(), 0, record.offset(), e.getMessage());
          }
        }
      }
    } catch (WakeupException e) {
      if (!closed) {
        log.error("Routing subscriber of {} woke up unexpectedly", cache.applicationId(), e);
      }
    } catch (RuntimeException e) {
      log.error(
          "Routing subscriber of {} stopped; this node's routing view no longer updates",
          cache.applicationId(),
          e);
    } finally {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
  }

  /** Stops the thread; returns once it ended (bounded by a few seconds). */
  @Override
  public void close() {
    closed = true;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
