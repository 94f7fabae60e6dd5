package dev.backbone.server.internals;

import dev.backbone.routing.Member;
import dev.backbone.routing.MemberState;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingPublisher;
import dev.backbone.routing.RoutingSubscriber;
import dev.backbone.routing.RoutingTopics;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routing of one stage of this node (a stage that holds a queryable store): the topics, the
 * node's cache of the stage's routing, the subscriber feeding it and the publisher the stage's
 * assignor writes through.
 *
 * <p>Order: topics, then the subscriber (so the cache fills while the stage starts), then this
 * node's {@code UP} record, acknowledged by the broker before the stage joins its group, so a table
 * naming this node never reaches a reader long before the node's endpoint does. On close the {@code
 * LEFT} record is written after the stage left its group.
 */
final class NodeRouting implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeRouting.class);
  private static final Duration ANNOUNCE_TIMEOUT = Duration.ofSeconds(30);

  private final RoutingCache cache;
  private final RoutingPublisher publisher;
  private final RoutingSubscriber subscriber;
  private final Member self;

  private NodeRouting(
      RoutingCache cache, RoutingPublisher publisher, RoutingSubscriber subscriber, Member self) {
    this.cache = cache;
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.self = self;
  }

  /**
   * Starts routing for a stage.
   *
   * @param stageProperties the stage's resolved Kafka Streams settings, without routing
   * @param nodeId this node
   * @param rack this node's rack, or empty
   * @param endpoint this node's HTTP endpoint
   */
  static NodeRouting start(
      Properties stageProperties, String nodeId, String rack, HostInfo endpoint) {
    StreamsConfig streams = new StreamsConfig(stageProperties);
    String appId = streams.getString(StreamsConfig.APPLICATION_ID_CONFIG);
    String clientId = nodeId + "-" + appId + "-routing";
    try (Admin admin = Admin.create(streams.getAdminConfigs(clientId))) {
      RoutingTopics.ensure(
          admin, appId, streams.getInt(StreamsConfig.REPLICATION_FACTOR_CONFIG).shortValue());
    }
    RoutingCache cache = new RoutingCache(appId);
    Map<String, Object> consumerConfigs = streams.getRestoreConsumerConfigs(clientId);
    consumerConfigs.remove(ConsumerConfig.GROUP_ID_CONFIG);
    consumerConfigs.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    RoutingSubscriber subscriber =
        new RoutingSubscriber(consumerConfigs, cache, "backbone-routing-" + nodeId + "-" + appId);
    RoutingPublisher publisher = null;
    try {
      publisher = new RoutingPublisher(streams.getProducerConfigs(clientId), cache);
      Member self =
          new Member(
              nodeId,
              rack,
              endpoint.host() + ":" + endpoint.port(),
              MemberState.UP,
              System.currentTimeMillis());
      publisher.publish(self, ANNOUNCE_TIMEOUT);
      return new NodeRouting(cache, publisher, subscriber, self);
    } catch (RuntimeException e) {
      subscriber.close();
      if (publisher != null) {
        publisher.close();
      }
      throw e;
    }
  }

  RoutingCache cache() {
    return cache;
  }

  RoutingPublisher publisher() {
    return publisher;
  }

  /** Announces that this node left; the stage must have left its group already. */
  void announceLeft() {
    try {
      publisher.publish(
          self.withState(MemberState.LEFT, System.currentTimeMillis()), ANNOUNCE_TIMEOUT);
    } catch (RuntimeException e) {
      log.warn("Node {} could not announce that it left: {}", self.nodeId(), e.getMessage());
    }
  }

  @Override
  public void close() {
    try {
      subscriber.close();
    } finally {
      publisher.close();
    }
  }
}
