package dev.backbone.server.internals;

import dev.backbone.config.BackboneConfig;
import dev.backbone.routing.RoutingPublisher;
import dev.backbone.routing.RoutingPublishingTaskAssignor;
import dev.backbone.routing.RoutingTopics;
import dev.backbone.server.StreamsStage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.metrics.JmxReporter;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The Kafka Streams settings a stage actually runs with.
 *
 * <p>Node properties that are not {@code backbone.*} settings are defaults for every stage (so
 * {@code bootstrap.servers} or {@code state.dir} are given once per node); a stage's own value
 * wins, except for {@code client.rack}, which describes the node, not the stage (a node sits in one
 * rack, and rack-aware placement is only sound if every stage agrees): a stage that sets it
 * differently is refused rather than silently overridden.
 *
 * <p>{@code application.server} is refused everywhere: with it, Kafka Streams copies every host's
 * partitions into every member's assignment (O(members x partitions)). A stage that holds a
 * queryable store gets Backbone's routing instead ({@link Routing}): {@link
 * RoutingPublishingTaskAssignor} as {@code task.assignor.class}, wrapping the configured delegate
 * (or the stage's own {@code task.assignor.class}), and the node id as client tag {@value
 * RoutingTopics#NODE_ID_TAG} so that the group leader can name the node of every process. It also
 * gets the node's {@link RestoreTracker} (as global restore listener, set by the node, and through
 * {@link RestoreTracker.StoreLifecycleReporter} in {@code metric.reporters}), so that only a
 * caught-up active answers a non-stale read.
 *
 * <p>Under {@code exactly_once_v2} a stage with a queryable store runs without Kafka Streams'
 * record cache ({@code statestore.cache.max.bytes=0}; a stage that sets it otherwise is refused).
 * The cache holds the writes of the open transaction, and IQv2 cannot skip it: {@code
 * KeyQuery#skipCache()} is dropped by {@code MeteredKeyValueStore#runKeyQuery} and {@code
 * MeteredTimestampedKeyValueStore#runKeyQuery}, which rebuild the query as {@code
 * KeyQuery.withKey(serializedKey)} before {@code CachingKeyValueStore#runKeyQuery} sees it (Kafka
 * Streams 4.3.1 and 4.4.0), and a cached answer carries the cache's uncommitted position.
 */
public final class StageProperties {
  private StageProperties() {}

  /**
   * Problems with a stage's settings before the node starts; empty when it may run.
   *
   * @param nodeProperties the node's properties
   * @param stage the stage
   */
  public static List<String> problems(
      Properties nodeProperties, StreamsStage stage, boolean holdsQueryableStore) {
    List<String> problems = new ArrayList<>();
    Properties own = stage.streamsProperties();
    if (holdsQueryableStore && exactlyOnce(merged(nodeProperties, own))) {
      for (String cache : CACHE_SIZE_CONFIGS) {
        Object size = merged(nodeProperties, own).get(cache);
        if (size != null && !size.toString().trim().equals("0")) {
          problems.add(
              "stage '"
                  + stage.name()
                  + "' runs exactly_once_v2 with a queryable store but sets "
                  + cache
                  + "="
                  + size
                  + ": Kafka Streams' record cache holds uncommitted writes that IQv2 reads cannot"
                  + " skip, so Backbone runs such a stage without it; remove the setting");
        }
      }
    }
    Object nodeRack = nodeProperties.get(CommonClientConfigs.CLIENT_RACK_CONFIG);
    Object stageRack = own.get(CommonClientConfigs.CLIENT_RACK_CONFIG);
    if (stageRack != null && nodeRack != null && !Objects.equals(stageRack, nodeRack)) {
      problems.add(
          "stage '"
              + stage.name()
              + "' sets client.rack="
              + stageRack
              + " but the node is in rack "
              + nodeRack
              + "; set client.rack once, in the node properties");
    }
    for (Properties source : List.of(nodeProperties, own)) {
      if (source.containsKey(StreamsConfig.APPLICATION_SERVER_CONFIG)) {
        problems.add(
            "stage '"
                + stage.name()
                + "': application.server would copy every host's partitions into every"
                + " member's assignment; Backbone publishes routing instead (see "
                + RoutingTopics.routingTopic("<application.id>")
                + "); remove it");
        break;
      }
    }
    if (applicationId(nodeProperties, stage).isEmpty()) {
      problems.add("stage '" + stage.name() + "' has no application.id; set it in its properties");
    }
    return problems;
  }

  /** Kafka Streams' settings of the record cache size, the current one and the deprecated one. */
  @SuppressWarnings("deprecation")
  private static final List<String> CACHE_SIZE_CONFIGS =
      List.of(
          StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG,
          StreamsConfig.CACHE_MAX_BYTES_BUFFERING_CONFIG);

  /** Whether resolved (or merged) stage settings ask for {@code exactly_once_v2}. */
  public static boolean exactlyOnce(Properties settings) {
    Object guarantee = settings.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG);
    return guarantee != null && StreamsConfig.EXACTLY_ONCE_V2.equals(guarantee.toString().trim());
  }

  private static Properties merged(Properties nodeProperties, Properties own) {
    Properties merged = new Properties();
    merged.putAll(nodeProperties);
    merged.putAll(own);
    return merged;
  }

  /** The stage's {@code application.id}, from its own properties or the node's. */
  public static Optional<String> applicationId(Properties nodeProperties, StreamsStage stage) {
    Object id = stage.streamsProperties().get(StreamsConfig.APPLICATION_ID_CONFIG);
    if (id == null) {
      id = nodeProperties.get(StreamsConfig.APPLICATION_ID_CONFIG);
    }
    return id == null || id.toString().isBlank() ? Optional.empty() : Optional.of(id.toString());
  }

  /**
   * How a stage with a queryable store is routed, and how its reads learn whether a local replica
   * is caught up.
   *
   * @param nodeId the node id, announced as client tag
   * @param delegateAssignorClass the assignor that computes assignments, unless the stage names its
   *     own {@code task.assignor.class}
   * @param publisher the node's publisher of this stage's routing
   * @param restores the stage's restore tracker, fed by its metrics reporter
   */
  public record Routing(
      String nodeId,
      String delegateAssignorClass,
      RoutingPublisher publisher,
      RestoreTracker restores) {
    /** Checks the arguments. */
    public Routing {
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(delegateAssignorClass, "delegateAssignorClass");
      Objects.requireNonNull(publisher, "publisher");
      Objects.requireNonNull(restores, "restores");
    }
  }

  /**
   * The settings to start the stage with.
   *
   * @param nodeProperties the node's properties ({@code backbone.*} settings are left out)
   * @param stage the stage
   * @param routing the routing of a stage that holds a queryable store; empty for other stages
   */
  public static Properties resolve(
      Properties nodeProperties, StreamsStage stage, Optional<Routing> routing) {
    Properties resolved = new Properties();
    for (Map.Entry<Object, Object> e : nodeProperties.entrySet()) {
      if (!String.valueOf(e.getKey()).startsWith(BackboneConfig.PREFIX)) {
        resolved.put(e.getKey(), e.getValue());
      }
    }
    resolved.putAll(stage.streamsProperties());
    Object rack = nodeProperties.get(CommonClientConfigs.CLIENT_RACK_CONFIG);
    if (rack != null) {
      resolved.put(CommonClientConfigs.CLIENT_RACK_CONFIG, rack);
    }
    routing.ifPresent(
        r -> {
          Object own = resolved.get(StreamsConfig.TASK_ASSIGNOR_CLASS_CONFIG);
          String delegate =
              own == null || own.toString().equals(RoutingPublishingTaskAssignor.class.getName())
                  ? r.delegateAssignorClass()
                  : own instanceof Class<?> c ? c.getName() : own.toString();
          resolved.put(
              StreamsConfig.TASK_ASSIGNOR_CLASS_CONFIG,
              RoutingPublishingTaskAssignor.class.getName());
          resolved.put(BackboneConfig.ROUTING_DELEGATE_ASSIGNOR_CLASS_CONFIG, delegate);
          resolved.put(RoutingPublishingTaskAssignor.PUBLISHER_CONFIG, r.publisher());
          resolved.put(StreamsConfig.clientTagPrefix(RoutingTopics.NODE_ID_TAG), r.nodeId());
          resolved.put(
              StreamsConfig.METRIC_REPORTER_CLASSES_CONFIG,
              withStoreLifecycleReporter(
                  resolved.get(StreamsConfig.METRIC_REPORTER_CLASSES_CONFIG)));
          resolved.put(RestoreTracker.TRACKER_CONFIG, r.restores());
          // Changelog records carry their position, so that restored replicas and standbys answer
          // minPosition reads (see BackboneStores#streamsSettings).
          resolved.putIfAbsent(
              StreamsConfig.InternalConfig.IQ_CONSISTENCY_OFFSET_VECTOR_ENABLED, true);
          withoutRecordCacheUnderExactlyOnce(resolved);
        });
    return resolved;
  }

  /**
   * Turns Kafka Streams' record cache off in the settings of a stage that serves reads, if they ask
   * for {@code exactly_once_v2} (see the class comment): what a node does to every stage with a
   * queryable store, and what a benchmark of such a stage must do too.
   */
  public static void withoutRecordCacheUnderExactlyOnce(Properties settings) {
    if (exactlyOnce(settings)) {
      settings.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
    }
  }

  /**
   * The stage's reporters plus the store lifecycle reporter; without reporters of its own a stage
   * keeps Kafka's default, the JMX reporter (a list replaces the default rather than adding to it).
   */
  private static String withStoreLifecycleReporter(Object configured) {
    List<String> names = new ArrayList<>();
    if (configured == null) {
      names.add(JmxReporter.class.getName());
    } else if (configured instanceof Collection<?> list) {
      list.forEach(c -> names.add(c instanceof Class<?> k ? k.getName() : c.toString().trim()));
    } else if (configured instanceof Class<?> k) {
      names.add(k.getName());
    } else {
      Arrays.stream(configured.toString().split(","))
          .map(String::trim)
          .filter(n -> !n.isEmpty())
          .forEach(names::add);
    }
    String reporter = RestoreTracker.StoreLifecycleReporter.class.getName();
    if (!names.contains(reporter)) {
      names.add(reporter);
    }
    return String.join(",", names);
  }
}
