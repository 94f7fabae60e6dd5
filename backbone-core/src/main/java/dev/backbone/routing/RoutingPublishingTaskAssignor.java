package dev.backbone.routing;

import dev.backbone.assignment.RackAwareTaskAssignor;
import dev.backbone.config.BackboneConfig;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupAssignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.assignment.ApplicationState;
import org.apache.kafka.streams.processor.assignment.TaskAssignor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KIP-924 {@link TaskAssignor} that leaves the assignment to a delegate and publishes where every
 * task landed, once per rebalance, to {@code <app-id>-backbone-routing}. Set it as {@code
 * task.assignor.class} of a stage and leave {@code application.server} unset: members' assignments
 * then carry only their own tasks, and routing travels once through the topic instead of once per
 * member.
 *
 * <p>Configuration, all from the stage's Kafka Streams properties (Kafka Streams passes them to
 * {@link #configure}): {@value BackboneConfig#ROUTING_DELEGATE_ASSIGNOR_CLASS_CONFIG} (default
 * Backbone's {@link RackAwareTaskAssignor}); {@value #PUBLISHER_CONFIG}, the {@link
 * RoutingPublisher} object the node owns for this stage (Backbone nodes set it). Without a
 * publisher the assignor only delegates, and warns that nothing is published.
 *
 * <p>What must hold: publication never fails or delays a rebalance. Kafka Streams creates a new
 * assignor instance for every rebalance and, on the group leader's stream thread inside {@code
 * Consumer#poll}, calls {@link #assign} and then {@link #onAssignmentComputed} on it ({@code
 * StreamsPartitionAssignor#assign}); the consumer coordinator holds its lock meanwhile ({@code
 * AbstractCoordinator}'s JoinGroup response handler calls {@code onLeaderElected} inside it), so
 * the heartbeat thread cannot heartbeat, and SyncGroup, which every member waits for, is only sent
 * afterwards. A callback that takes longer than {@code session.timeout.ms} gets the leader expelled
 * and the rebalance starts over. So the only routing work done here is building the table from the
 * delegate's {@code TaskAssignment} and the {@code ApplicationState} it saw (O(tasks), in memory)
 * and handing it to the publisher, which numbers it and returns at once ({@link
 * RoutingPublisher#publish(RoutingTable)}): no producer is created or closed here, and nothing here
 * waits for a broker. The table is published only when Kafka Streams accepted the assignment
 * ({@code AssignmentError.NONE}), and every failure is logged, never thrown.
 */
public final class RoutingPublishingTaskAssignor implements TaskAssignor {
  /** Key of the {@link RoutingPublisher} object in the stage's properties. */
  public static final String PUBLISHER_CONFIG = "dev.backbone.routing.publisher";

  private static final Logger log = LoggerFactory.getLogger(RoutingPublishingTaskAssignor.class);

  private TaskAssignor delegate;
  private RoutingPublisher publisher;
  private String applicationId;
  private ApplicationState lastState;
  private TaskAssignment lastAssignment;

  /** An assignor to be configured by Kafka Streams. */
  public RoutingPublishingTaskAssignor() {}

  @Override
  public void configure(Map<String, ?> configs) {
    Object id = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
    this.applicationId = id == null ? "" : id.toString();
    this.delegate = newDelegate(configs.get(BackboneConfig.ROUTING_DELEGATE_ASSIGNOR_CLASS_CONFIG));
    delegate.configure(configs);
    Object p = configs.get(PUBLISHER_CONFIG);
    if (p != null && !(p instanceof RoutingPublisher)) {
      throw new ConfigException(
          PUBLISHER_CONFIG, p, "must be a " + RoutingPublisher.class.getName() + " object");
    }
    this.publisher = (RoutingPublisher) p;
  }

  private static TaskAssignor newDelegate(Object setting) {
    try {
      if (setting == null || setting.toString().isBlank()) {
        return new RackAwareTaskAssignor();
      }
      if (setting instanceof Class<?> c) {
        return Utils.newInstance(c.asSubclass(TaskAssignor.class));
      }
      return Utils.newInstance(setting.toString().trim(), TaskAssignor.class);
    } catch (ClassNotFoundException
        | ClassCastException
        | org.apache.kafka.common.KafkaException e) {
      throw new ConfigException(
          BackboneConfig.ROUTING_DELEGATE_ASSIGNOR_CLASS_CONFIG,
          setting,
          "must name a public " + TaskAssignor.class.getName() + " with a no-arg constructor");
    }
  }

  /** The delegate that computes assignments. */
  public TaskAssignor delegate() {
    return delegate;
  }

  @Override
  public TaskAssignment assign(ApplicationState applicationState) {
    TaskAssignment assignment = delegate.assign(applicationState);
    lastState = applicationState;
    lastAssignment = assignment;
    return assignment;
  }

  @Override
  public void onAssignmentComputed(
      GroupAssignment assignment, GroupSubscription subscription, AssignmentError error) {
    try {
      delegate.onAssignmentComputed(assignment, subscription, error);
    } finally {
      if (error == AssignmentError.NONE && lastAssignment != null) {
        handOverQuietly();
      }
    }
  }

  private void handOverQuietly() {
    if (publisher == null) {
      log.warn(
          "The routing table of {} is not published: {} has no {}; Backbone nodes set it, a"
              + " KafkaStreams of your own must be given a RoutingPublisher it owns",
          applicationId,
          PUBLISHER_CONFIG,
          RoutingPublisher.class.getSimpleName());
      return;
    }
    try {
      publisher.publish(
          RoutingTable.fromAssignment(
              applicationId, System.currentTimeMillis(), lastState, lastAssignment));
    } catch (RuntimeException e) {
      log.warn(
          "Could not hand the routing table of {} over for publication; nodes keep their previous"
              + " table until the next rebalance",
          applicationId,
          e);
    }
  }
}
