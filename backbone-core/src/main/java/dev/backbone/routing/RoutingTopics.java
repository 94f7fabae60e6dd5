package dev.backbone.routing;

import dev.backbone.errors.RetriableBackboneException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The two compacted topics of an application's routing: {@code <app-id>-backbone-members} (key:
 * node id, value: {@link Member}) and {@code <app-id>-backbone-routing} (key: application id,
 * value: {@link RoutingTable}). One partition each: they are small, and one partition gives one
 * order, so the last table in the log is the latest one.
 */
public final class RoutingTopics {
  /**
   * The client tag ({@code client.tag.backbone.node}) through which a node announces its node id in
   * its subscription, so the group leader can map process ids to nodes without {@code
   * application.server}. Values are at most 30 characters (a Kafka Streams limit).
   */
  public static final String NODE_ID_TAG = "backbone.node";

  /** The longest node id a client tag can carry. */
  public static final int MAX_NODE_ID_LENGTH = 30;

  private RoutingTopics() {}

  /** {@code <applicationId>-backbone-members}. */
  public static String membersTopic(String applicationId) {
    return applicationId + "-backbone-members";
  }

  /** {@code <applicationId>-backbone-routing}. */
  public static String routingTopic(String applicationId) {
    return applicationId + "-backbone-routing";
  }

  /**
   * Creates both topics unless they exist.
   *
   * @param replicationFactor the replication factor, or -1 for the broker default
   * @throws RetriableBackboneException {@code ROUTING_TOPICS_UNAVAILABLE} if the brokers do not
   *     answer in time
   */
  public static void ensure(Admin admin, String applicationId, short replicationFactor) {
    Map<String, String> configs =
        Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG,
            TopicConfig.CLEANUP_POLICY_COMPACT,
            TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG,
            "0");
    Optional<Short> rf = replicationFactor < 0 ? Optional.empty() : Optional.of(replicationFactor);
    for (String topic : List.of(membersTopic(applicationId), routingTopic(applicationId))) {
      try {
        admin
            .createTopics(List.of(new NewTopic(topic, Optional.of(1), rf).configs(configs)))
            .all()
            .get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw unavailable(topic, e.getCause());
        }
      } catch (TimeoutException e) {
        throw unavailable(topic, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw unavailable(topic, e);
      }
    }
  }

  private static RetriableBackboneException unavailable(String topic, Throwable cause) {
    return new RetriableBackboneException(
        "ROUTING_TOPICS_UNAVAILABLE",
        "Could not create routing topic '"
            + topic
            + "' ("
            + cause
            + "); check that the brokers are reachable and allow topic creation.",
        cause);
  }
}
