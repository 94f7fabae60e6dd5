package dev.backbone.server;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.TopicNameExtractor;

/**
 * A stage whose task count Backbone can change while it runs ({@code bin/backbone rescale}): a
 * Kafka Streams application whose only input is a topic Backbone owns, {@code
 * <applicationId>-keyed-events-g<generation>}, already partitioned by the key its state is kept by,
 * and fed by another stage of the node (the {@code feeder}) that writes through {@link #sink()}.
 *
 * <p>Each rescale starts a new <i>generation</i>: a new input topic with the new partition count, a
 * new application id ({@code <applicationId>} for generation 0, {@code <applicationId>-g<g>}
 * after), so that Kafka Streams creates changelogs of the new count beside the old ones. So the
 * topology is a function of its input topic's name, built again for every generation, and must read
 * nothing but that topic (no other source, no join with a user topic, no repartition that changes
 * the key: the state's keys must be the input's keys, or a split by key would put them in the wrong
 * task).
 *
 * <pre>{@code
 * KeyedStateStage state = KeyedStateStage.of("state", "shop", "ingest",
 *     input -> stateTopology(input), stateProps);
 * BackboneNode.builder()
 *     .stage(new StreamsStage("ingest", ingestTopology(state.sink()), ingestProps))
 *     .keyedState(state)
 *     ...
 * }</pre>
 *
 * <p>One instance belongs to one node: its node sets the generation its feeder writes to.
 */
public final class KeyedStateStage {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

  /** Instances claimed by a node, so that two nodes never share one generation pointer. */
  private static final Map<KeyedStateStage, Boolean> CLAIMED =
      Collections.synchronizedMap(new WeakHashMap<>());

  private final String name;
  private final String applicationId;
  private final String feeder;
  private final Function<String, Topology> topologyOfInput;
  private final Properties streamsProperties;
  private final AtomicInteger generation = new AtomicInteger();

  private KeyedStateStage(
      String name,
      String applicationId,
      String feeder,
      Function<String, Topology> topologyOfInput,
      Properties streamsProperties) {
    this.name = name;
    this.applicationId = applicationId;
    this.feeder = feeder;
    this.topologyOfInput = topologyOfInput;
    this.streamsProperties = copy(streamsProperties);
  }

  /**
   * A keyed state stage.
   *
   * @param name the stage's name in the node ({@code [A-Za-z0-9._-]+})
   * @param applicationId generation 0's {@code application.id}, the base of every generation's
   *     names and of the rescale log {@code <applicationId>-rescale}
   * @param feeder the name of the node's stage that writes to {@link #sink()}; a rescale pauses it
   * @param topologyOfInput the stage's topology given its input topic's name; called once per
   *     generation
   * @param streamsProperties Kafka Streams settings; {@code application.id} is set per generation
   */
  public static KeyedStateStage of(
      String name,
      String applicationId,
      String feeder,
      Function<String, Topology> topologyOfInput,
      Properties streamsProperties) {
    Objects.requireNonNull(name, "a stage needs a name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "Stage name '" + name + "' is invalid: use letters, digits, '.', '_' or '-' only");
    }
    if (applicationId == null || applicationId.isBlank()) {
      throw new IllegalArgumentException(
          "keyed state stage '" + name + "' needs an application id");
    }
    Objects.requireNonNull(feeder, () -> "keyed state stage '" + name + "' needs its feeder stage");
    Objects.requireNonNull(topologyOfInput, () -> "stage '" + name + "' needs a topology");
    Objects.requireNonNull(streamsProperties, "streamsProperties");
    return new KeyedStateStage(name, applicationId, feeder, topologyOfInput, streamsProperties);
  }

  /** The stage's name. */
  public String name() {
    return name;
  }

  /** Generation 0's application id, the base of every generation's names. */
  public String applicationId() {
    return applicationId;
  }

  /** The stage that feeds this one through {@link #sink()}. */
  public String feeder() {
    return feeder;
  }

  /** The {@code application.id} of a generation: the base for 0, {@code <base>-g<g>} after. */
  public static String applicationId(String base, int generation) {
    checkGeneration(generation);
    return generation == 0 ? base : base + "-g" + generation;
  }

  /** The input topic of a generation: {@code <base>-keyed-events-g<g>}. */
  public static String inputTopic(String base, int generation) {
    checkGeneration(generation);
    return base + "-keyed-events-g" + generation;
  }

  /** This stage's input topic in {@code generation}. */
  public String inputTopic(int generation) {
    return inputTopic(applicationId, generation);
  }

  /** The generation this stage's node runs now (0 before its node started it). */
  public int generation() {
    return generation.get();
  }

  /**
   * Where the feeder writes: the input topic of the generation the node runs now. Read per record,
   * so a feeder started again after a rescale writes to the new generation without a new topology.
   */
  public <K, V> TopicNameExtractor<K, V> sink() {
    return (key, value, context) -> inputTopic(generation.get());
  }

  /** The stage of one generation: its topology and settings with its application id. */
  public StreamsStage forGeneration(int generation) {
    Properties properties = copy(streamsProperties);
    properties.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId(applicationId, generation));
    String clientId = properties.getProperty(StreamsConfig.CLIENT_ID_CONFIG);
    if (clientId != null && generation > 0) {
      // Two generations run side by side for a moment during a rescale: keep their clients apart.
      properties.put(StreamsConfig.CLIENT_ID_CONFIG, clientId + "-g" + generation);
    }
    return new StreamsStage(name, topologyOfInput.apply(inputTopic(generation)), properties);
  }

  /**
   * Sets the generation the feeder writes to; only the node that claimed this instance calls it.
   */
  void generation(int generation) {
    checkGeneration(generation);
    this.generation.set(generation);
  }

  /** Claims this instance for a node; false if another node has it. */
  boolean claim() {
    return CLAIMED.putIfAbsent(this, Boolean.TRUE) == null;
  }

  private static void checkGeneration(int generation) {
    if (generation < 0) {
      throw new IllegalArgumentException("a generation is 0 or more, not " + generation);
    }
  }

  private static Properties copy(Properties source) {
    Properties copy = new Properties();
    source.stringPropertyNames().forEach(k -> copy.put(k, source.getProperty(k)));
    source.forEach(copy::putIfAbsent);
    return copy;
  }
}
