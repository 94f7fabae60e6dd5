package dev.backbone.server;

import dev.backbone.config.BackboneConfig;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingTopics;
import dev.backbone.server.internals.KeyedStageHandle;
import dev.backbone.server.internals.NodeRuntime;
import dev.backbone.server.internals.RestoreTracker;
import dev.backbone.server.internals.RunningStage;
import dev.backbone.server.internals.StageProperties;
import dev.backbone.server.internals.TopologyIndex;
import dev.backbone.store.ServingTasks;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.streams.KafkaStreams;

/**
 * One Backbone node: one or more Kafka Streams applications ({@link StreamsStage stages}) and the
 * HTTP server that answers the query API, {@code /v1/cluster}, {@code /metrics} and the health
 * checks. Every node answers every call; a key read is served locally or forwarded to the node that
 * owns the key.
 *
 * <pre>{@code
 * try (BackboneNode node = BackboneNode.builder()
 *     .properties(nodeProps)            // backbone.* settings + shared Kafka settings
 *     .stage(new StreamsStage("ingest", ingestTopology, ingestProps))
 *     .stage(new StreamsStage("state", stateTopology, stateProps))
 *     .queryableStore(QueryableStore.withStringKeys("customer-profiles", "state", p -> p))
 *     .build()) {
 *   node.start();
 *   ...
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link #start()} may be called once; {@link #close()} any number of times.
 */
public final class BackboneNode implements AutoCloseable {
  private final NodeRuntime runtime;

  private BackboneNode(NodeRuntime runtime) {
    this.runtime = runtime;
  }

  /** A builder for a node. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the HTTP server (so {@code /health/live} answers at once), then every stage in order.
   * Returns once the stages are started, not once they are RUNNING: see {@link #isReady()}.
   *
   * @throws IllegalStateException if the node was started or closed before
   * @throws FatalBackboneException {@code HTTP_BIND_FAILED} or {@code STAGE_START_FAILED}; the node
   *     is closed then
   */
  public void start() {
    runtime.start();
  }

  /** The HTTP port: the bound one after {@link #start()} (a free one if configured as 0). */
  public int httpPort() {
    return runtime.httpPort();
  }

  /** This node's id ({@code backbone.node.id}). */
  public String nodeId() {
    return runtime.nodeId();
  }

  /** Whether the node is started, not closed, and every stage is RUNNING. */
  public boolean isReady() {
    return runtime.isReady();
  }

  /**
   * The Kafka Streams instance of a stage, e.g. for its state or lags.
   *
   * @throws IllegalArgumentException if the node has no stage of that name
   * @throws IllegalStateException if the node has not started the stage
   */
  public KafkaStreams streams(String stageName) {
    return runtime.streams(stageName);
  }

  /**
   * This node's routing view of a stage that holds a queryable store (tests pin stale tables on
   * it).
   *
   * @throws IllegalArgumentException if the stage has no routing on this node (yet)
   */
  RoutingCache routing(String stageName) {
    return runtime
        .routing(stageName)
        .orElseThrow(
            () -> new IllegalArgumentException("stage '" + stageName + "' has no routing here"));
  }

  /**
   * What this node knows of whether each local store partition of a stage is caught up (tests check
   * it against what Kafka Streams does).
   *
   * @throws IllegalArgumentException if the node has not started the stage
   */
  RestoreTracker restores(String stageName) {
    return runtime
        .stage(stageName)
        .map(RunningStage::restores)
        .orElseThrow(
            () -> new IllegalArgumentException("stage '" + stageName + "' has not started here"));
  }

  /**
   * Which tasks of a stage this node's direct read path takes as active and running (tests check it
   * against what Kafka Streams does).
   *
   * @throws IllegalArgumentException if the node has not started the stage
   */
  ServingTasks servingTasks(String stageName) {
    return runtime
        .stage(stageName)
        .map(RunningStage::serving)
        .orElseThrow(
            () -> new IllegalArgumentException("stage '" + stageName + "' has not started here"));
  }

  /** The registry that {@code /metrics} scrapes. */
  public PrometheusMeterRegistry meterRegistry() {
    return runtime.registry();
  }

  /**
   * Closes the stages in reverse order (each bounded by 30 s), then the HTTP server. Idempotent;
   * never throws.
   */
  @Override
  public void close() {
    runtime.close();
  }

  /** Collects a node's parts; {@link #build()} checks them all at once. */
  public static final class Builder {
    private final Properties properties = new Properties();
    private final List<StreamsStage> stages = new ArrayList<>();
    private final List<QueryableStore<?, ?>> stores = new ArrayList<>();
    private final List<EventTopic> eventTopics = new ArrayList<>();
    private final Map<String, KeyedStateStage> keyed = new LinkedHashMap<>();
    private PrometheusMeterRegistry registry;

    private Builder() {}

    /**
     * Adds node properties: {@code backbone.*} settings (see {@link BackboneConfig}) and Kafka
     * settings shared by every stage, such as {@code bootstrap.servers} or {@code client.rack}.
     * Later calls add to earlier ones; a repeated key takes the later value.
     */
    public Builder properties(Properties nodeProperties) {
      Objects.requireNonNull(nodeProperties, "nodeProperties");
      // getProperty also sees the defaults of a Properties; forEach then adds non-string values.
      nodeProperties
          .stringPropertyNames()
          .forEach(k -> properties.put(k, nodeProperties.getProperty(k)));
      nodeProperties.forEach(properties::put);
      return this;
    }

    /** Adds a stage; stages start in the order they are added and close in reverse. */
    public Builder stage(StreamsStage stage) {
      stages.add(Objects.requireNonNull(stage, "stage"));
      return this;
    }

    /**
     * Adds a keyed state stage, a stage {@code bin/backbone rescale} can move to another task count
     * (see {@link KeyedStateStage}); like {@link #stage}, it starts in the order added. Its feeder
     * must be a stage of this node too.
     */
    public Builder keyedState(KeyedStateStage stage) {
      Objects.requireNonNull(stage, "stage");
      keyed.put(stage.name(), stage);
      stages.add(stage.forGeneration(0));
      return this;
    }

    /** Adds a store the HTTP API serves. */
    public Builder queryableStore(QueryableStore<?, ?> store) {
      stores.add(Objects.requireNonNull(store, "store"));
      return this;
    }

    /**
     * Adds a topic {@code POST /v1/events} appends to (typically the input topic of the first
     * stage), e.g. {@code EventTopic.keyedBy("customer-events", "customerId")}.
     */
    public Builder eventTopic(EventTopic topic) {
      eventTopics.add(Objects.requireNonNull(topic, "topic"));
      return this;
    }

    /**
     * The registry for every meter of the node; pass the one your topologies report to, so that
     * {@code /metrics} shows their meters too. Default: a new registry.
     */
    public Builder meterRegistry(PrometheusMeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Checks every part and builds the node; nothing starts yet.
     *
     * @throws FatalBackboneException {@code BAD_CONFIG} naming every problem found
     */
    public BackboneNode build() {
      List<String> problems = new ArrayList<>();
      BackboneConfig config = null;
      try {
        config = BackboneConfig.of(properties);
      } catch (FatalBackboneException e) {
        problems.add(e.getMessage());
      }
      if (stages.isEmpty()) {
        problems.add("a node needs at least one stage");
      }
      Map<String, TopologyIndex> topologies = new LinkedHashMap<>();
      Map<String, String> stageByApplicationId = new HashMap<>();
      Set<String> stagesWithStores = new HashSet<>();
      stores.forEach(s -> stagesWithStores.add(s.stageName()));
      for (StreamsStage stage : stages) {
        if (topologies.containsKey(stage.name())) {
          problems.add("two stages are named '" + stage.name() + "'");
          continue;
        }
        problems.addAll(
            StageProperties.problems(properties, stage, stagesWithStores.contains(stage.name())));
        String applicationId = StageProperties.applicationId(properties, stage).orElse("");
        String other = stageByApplicationId.putIfAbsent(applicationId, stage.name());
        if (other != null && !applicationId.isEmpty()) {
          problems.add(
              "stages '"
                  + other
                  + "' and '"
                  + stage.name()
                  + "' share application.id '"
                  + applicationId
                  + "'; each stage is its own Kafka Streams application");
        }
        topologies.put(stage.name(), TopologyIndex.of(stage.topology(), applicationId));
      }
      for (KeyedStateStage k : keyed.values()) {
        if (stages.stream().noneMatch(st -> st.name().equals(k.feeder()))) {
          problems.add(
              "keyed state stage '"
                  + k.name()
                  + "' names feeder stage '"
                  + k.feeder()
                  + "', which the node does not have");
        }
        if (k.feeder().equals(k.name())) {
          problems.add("keyed state stage '" + k.name() + "' cannot feed itself");
        }
      }
      Set<String> storeNames = new HashSet<>();
      for (QueryableStore<?, ?> store : stores) {
        if (!storeNames.add(store.storeName())) {
          problems.add("store '" + store.storeName() + "' is declared twice");
        }
        TopologyIndex topology = topologies.get(store.stageName());
        if (topology == null) {
          problems.add(
              "store '"
                  + store.storeName()
                  + "' names stage '"
                  + store.stageName()
                  + "', which the node does not have; stages: "
                  + topologies.keySet());
        } else if (!topology.storeNames().contains(store.storeName())) {
          problems.add(
              "stage '"
                  + store.stageName()
                  + "' has no store '"
                  + store.storeName()
                  + "'; its stores: "
                  + topology.storeNames());
        }
      }
      if (config != null
          && !stores.isEmpty()
          && config.nodeId().length() > RoutingTopics.MAX_NODE_ID_LENGTH) {
        problems.add(
            BackboneConfig.NODE_ID_CONFIG
                + " '"
                + config.nodeId()
                + "' is longer than "
                + RoutingTopics.MAX_NODE_ID_LENGTH
                + " characters; routing announces it as a Kafka Streams client tag, which is"
                + " limited to that");
      }
      Set<String> eventTopicNames = new HashSet<>();
      for (EventTopic topic : eventTopics) {
        if (!eventTopicNames.add(topic.name())) {
          problems.add("event topic '" + topic.name() + "' is declared twice");
        }
      }
      if (!problems.isEmpty()) {
        throw new FatalBackboneException(
            "BAD_CONFIG", "Invalid Backbone node: " + String.join("; ", problems) + ".");
      }
      Map<String, KeyedStageHandle> handles = new LinkedHashMap<>();
      for (KeyedStateStage k : keyed.values()) {
        if (!k.claim()) {
          throw new FatalBackboneException(
              "BAD_CONFIG",
              "Invalid Backbone node: keyed state stage '"
                  + k.name()
                  + "' belongs to another node already; build one instance per node (its node"
                  + " sets the generation its feeder writes to).");
        }
        handles.put(
            k.name(),
            new KeyedStageHandle(
                k.name(), k.applicationId(), k.feeder(), k::forGeneration, k::generation));
      }
      Properties snapshot = new Properties();
      snapshot.putAll(properties);
      PrometheusMeterRegistry meters =
          registry != null ? registry : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      return new BackboneNode(
          new NodeRuntime(
              config, snapshot, stages, topologies, stores, meters, eventTopics, handles));
    }
  }
}
