package dev.backbone.server.internals;

import dev.backbone.store.ServingTasks;
import java.util.Objects;
import org.apache.kafka.streams.KafkaStreams;

/**
 * A stage after the node created its Kafka Streams instance.
 *
 * @param name the stage name
 * @param streams its Kafka Streams instance (started, or closed once the node closed)
 * @param topology what its topology holds
 * @param restores whether each local store partition is caught up (registered on {@code streams})
 * @param serving which of its tasks are active and running, with their Backbone stores (fed only
 *     when its topology was built with {@code BackboneStores#topologyConfig})
 * @param exactlyOnce whether the stage runs with {@code processing.guarantee=exactly_once_v2}, so
 *     that reads must see committed state only
 */
public record RunningStage(
    String name,
    KafkaStreams streams,
    TopologyIndex topology,
    RestoreTracker restores,
    ServingTasks serving,
    boolean exactlyOnce) {
  /** Checks the arguments. */
  public RunningStage {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(streams, "streams");
    Objects.requireNonNull(topology, "topology");
    Objects.requireNonNull(restores, "restores");
    Objects.requireNonNull(serving, "serving");
  }
}
