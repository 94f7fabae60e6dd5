package dev.backbone.server;

import java.util.Objects;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.kafka.streams.Topology;

/**
 * One Kafka Streams application of a node, e.g. the ingest or the state stage of a pipeline.
 *
 * <p>The node adds its shared settings to {@code streamsProperties} when it starts the stage: every
 * node property that is not a {@code backbone.*} setting is a default for the stage (the stage's
 * own value wins), {@code client.rack} always comes from the node, and a stage that holds a {@link
 * QueryableStore} is routed by Backbone: its {@code task.assignor.class} is wrapped to publish the
 * routing table, and {@code application.server} must stay unset.
 *
 * @param name short, unique name of the stage within the node ({@code [A-Za-z0-9._-]+}); used in
 *     HTTP answers, metrics tags and logs
 * @param topology the topology to run
 * @param streamsProperties Kafka Streams settings of this stage; must contain {@code
 *     application.id}, here or in the node properties. Copied on construction and on access.
 */
public record StreamsStage(String name, Topology topology, Properties streamsProperties) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

  /** Checks the arguments and takes a private copy of the properties. */
  public StreamsStage {
    Objects.requireNonNull(name, "a stage needs a name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "Stage name '" + name + "' is invalid: use letters, digits, '.', '_' or '-' only");
    }
    Objects.requireNonNull(topology, () -> "stage '" + name + "' needs a topology");
    Objects.requireNonNull(
        streamsProperties, () -> "stage '" + name + "' needs its Kafka Streams properties");
    streamsProperties = copy(streamsProperties);
  }

  /** A copy of this stage's Kafka Streams settings; changing it does not change the stage. */
  @Override
  public Properties streamsProperties() {
    return copy(streamsProperties);
  }

  private static Properties copy(Properties source) {
    Properties copy = new Properties();
    source.stringPropertyNames().forEach(k -> copy.put(k, source.getProperty(k)));
    // Non-string values (e.g. a Class for a serde) are legal in Kafka Streams properties.
    source.forEach(copy::putIfAbsent);
    return copy;
  }
}
