package dev.backbone.server.internals;

import java.util.Objects;
import org.apache.kafka.streams.KafkaStreams;

/**
 * A stage after the node created its Kafka Streams instance.
 *
 * @param name the stage name
 * @param streams its Kafka Streams instance (started, or closed once the node closed)
 * @param topology what its topology holds
 */
public record RunningStage(String name, KafkaStreams streams, TopologyIndex topology) {
  /** Checks the arguments. */
  public RunningStage {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(streams, "streams");
    Objects.requireNonNull(topology, "topology");
  }
}
