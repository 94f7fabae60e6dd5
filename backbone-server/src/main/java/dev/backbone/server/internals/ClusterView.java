package dev.backbone.server.internals;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.backbone.bootstrap.ColdBootstrap;
import dev.backbone.routing.Member;
import dev.backbone.routing.Membership;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingTable;
import dev.backbone.routing.TaskRoute;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.LagInfo;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.errors.StreamsException;

/**
 * {@code GET /v1/cluster}, built from this node's routing view (the published routing tables and
 * membership of its stages that hold queryable stores) and this node's own threads. Nothing here
 * comes from Kafka Streams' host metadata: nodes run without {@code application.server}.
 */
final class ClusterView {
  private ClusterView() {}

  /**
   * The cluster view.
   *
   * @param node this node
   * @param withLags whether to add each local store partition's changelog lag; it asks the brokers
   *     for end offsets, so it costs a round trip and is only made on request
   */
  static ClusterAnswer of(LocalNode node, boolean withLags) {
    Map<String, NodeBuilder> nodes = new TreeMap<>();
    List<TaskEntry> tasks = new ArrayList<>();
    Map<String, Long> generations = new LinkedHashMap<>();
    List<StageEntry> stages = new ArrayList<>();
    for (String name : node.stageNames()) {
      node.routing(name).ifPresent(cache -> addRouting(name, cache, nodes, tasks, generations));
      RunningStage stage = node.stage(name).orElse(null);
      if (stage == null) {
        stages.add(
            new StageEntry(
                name,
                node.stageState(name),
                null,
                generationOf(node, name),
                null,
                List.of(),
                null));
        continue;
      }
      KafkaStreams streams = stage.streams();
      List<ThreadEntry> threads = new ArrayList<>();
      for (ThreadMetadata thread : localThreads(streams)) {
        threads.add(
            new ThreadEntry(
                thread.threadName(),
                thread.threadState(),
                taskIds(thread.activeTasks()),
                taskIds(thread.standbyTasks())));
      }
      threads.sort((a, b) -> a.name().compareTo(b.name()));
      stages.add(
          new StageEntry(
              name,
              node.stageState(name),
              stage.topology().applicationId(),
              generationOf(node, name),
              othersOf(node, name),
              threads,
              withLags ? storeLags(streams) : null));
    }
    List<NodeEntry> nodeEntries = nodes.values().stream().map(NodeBuilder::build).toList();
    return new ClusterAnswer(
        node.nodeId(),
        generations,
        nodeEntries,
        tasks,
        stages,
        rescaleOf(node.rescaleState()),
        withLags ? List.copyOf(node.bootstraps()) : null);
  }

  private static Integer generationOf(LocalNode node, String stage) {
    return node.generations(stage).keySet().stream().findFirst().orElse(null);
  }

  private static Map<String, String> othersOf(LocalNode node, String stage) {
    Map<String, String> others = new LinkedHashMap<>();
    node.generations(stage).entrySet().stream()
        .skip(1)
        .forEach(e -> others.put(Integer.toString(e.getKey()), e.getValue()));
    return others.isEmpty() ? null : others;
  }

  private static RescaleEntry rescaleOf(RescaleState state) {
    return state
        .plan()
        .map(
            p ->
                new RescaleEntry(
                    p.applicationId(),
                    p.step().name(),
                    p.step().ended(),
                    p.fromGeneration(),
                    p.toGeneration(),
                    p.fromPartitions(),
                    p.toPartitions(),
                    state.progress(),
                    p.log()))
        .orElse(null);
  }

  /**
   * The last rescale this node knows of (read when it started, then as its coordinator reports).
   *
   * @param applicationId the keyed stage's base application id
   * @param step the last step completed
   * @param ended whether it ended (confirmed or aborted)
   * @param fromGeneration the generation rescaled
   * @param toGeneration the generation it creates
   * @param fromPartitions the old task count
   * @param toPartitions the new task count
   * @param progress what the running step reported last
   * @param log one line per step completed
   */
  record RescaleEntry(
      String applicationId,
      String step,
      boolean ended,
      int fromGeneration,
      int toGeneration,
      int fromPartitions,
      int toPartitions,
      String progress,
      List<String> log) {}

  private static void addRouting(
      String stage,
      RoutingCache cache,
      Map<String, NodeBuilder> nodes,
      List<TaskEntry> tasks,
      Map<String, Long> generations) {
    RoutingTable table = cache.table();
    Membership membership = cache.membership();
    generations.put(stage, table.generation());
    for (Member m : membership.members()) {
      nodes
          .computeIfAbsent(m.nodeId(), NodeBuilder::new)
          .update(m.rack(), m.endpoint(), m.state().name());
    }
    Map<UUID, String> nodeOf = new LinkedHashMap<>();
    for (Membership.ResolvedMember m : membership.resolve(table)) {
      nodeOf.put(m.processId(), m.nodeId());
      NodeBuilder b = nodes.computeIfAbsent(m.nodeId(), NodeBuilder::new);
      if (b.state == null) {
        b.update(m.rack(), m.endpoint().orElse(null), m.state().name());
      }
    }
    for (TaskRoute route : table.tasks()) {
      String task = stage + "/" + route.task();
      String active = route.active().map(nodeOf::get).orElse(null);
      List<String> standbys = route.standbys().stream().map(nodeOf::get).toList();
      tasks.add(new TaskEntry(task, active, standbys));
      if (active != null) {
        nodes.get(active).active.add(task);
      }
      standbys.forEach(s -> nodes.get(s).standby.add(task));
    }
  }

  /**
   * Every local store partition, active or standby, with its changelog position and lag; empty
   * while the stage is not running. A failed end-offset lookup answers 503 (retriable).
   */
  private static List<StoreLag> storeLags(KafkaStreams streams) {
    Map<String, Map<Integer, LagInfo>> lags;
    try {
      lags = streams.allLocalStorePartitionLags();
    } catch (IllegalStateException e) {
      return List.of();
    } catch (StreamsException e) {
      throw HttpErrors.retriable(
          HttpErrors.KAFKA_UNAVAILABLE,
          "Changelog end offsets are not available now: " + e.getMessage());
    }
    List<StoreLag> out = new ArrayList<>();
    for (var store : new TreeMap<>(lags).entrySet()) {
      for (var partition : new TreeMap<>(store.getValue()).entrySet()) {
        LagInfo lag = partition.getValue();
        out.add(
            new StoreLag(
                store.getKey(),
                partition.getKey(),
                lag.currentOffsetPosition(),
                lag.endOffsetPosition(),
                lag.offsetLag()));
      }
    }
    return out;
  }

  private static List<ThreadMetadata> localThreads(KafkaStreams streams) {
    try {
      return new ArrayList<>(streams.metadataForLocalThreads());
    } catch (IllegalStateException e) {
      return List.of();
    }
  }

  private static List<String> taskIds(Set<TaskMetadata> tasks) {
    return tasks.stream().map(t -> t.taskId().toString()).sorted().toList();
  }

  private static final class NodeBuilder {
    private final String id;
    private String rack = "";
    private String endpoint;
    private String state;
    private final Set<String> active = new TreeSet<>();
    private final Set<String> standby = new TreeSet<>();

    NodeBuilder(String id) {
      this.id = id;
    }

    void update(String newRack, String newEndpoint, String newState) {
      rack = newRack;
      endpoint = newEndpoint;
      state = newState;
    }

    NodeEntry build() {
      return new NodeEntry(id, rack, endpoint, state, List.copyOf(active), List.copyOf(standby));
    }
  }

  /**
   * The cluster as this node sees it.
   *
   * @param node this node's id
   * @param generations the routing table generation in use, per routed stage
   * @param nodes every node known from routing and membership, by id
   * @param tasks every routed task with its active and standby nodes
   * @param stages this node's stages
   * @param rescale the last rescale of this node's keyed state it knows of, null if never
   * @param bootstraps with {@code ?lags=true}: this node's stores being filled from a peer's
   *     snapshot (phase, peer, bytes, rate, ETA), else null (left out of the JSON)
   */
  record ClusterAnswer(
      String node,
      Map<String, Long> generations,
      List<NodeEntry> nodes,
      List<TaskEntry> tasks,
      List<StageEntry> stages,
      @JsonInclude(JsonInclude.Include.NON_NULL) RescaleEntry rescale,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<ColdBootstrap.Status> bootstraps) {}

  /**
   * One node of the cluster.
   *
   * @param id its node id
   * @param rack its rack, or empty
   * @param endpoint its HTTP endpoint {@code host:port}, or null if it never announced one
   * @param state {@code UP}, {@code LEFT} or {@code UNKNOWN}
   * @param activeTasks its active tasks as {@code stage/taskId}
   * @param standbyTasks its standby tasks as {@code stage/taskId}
   */
  record NodeEntry(
      String id,
      String rack,
      String endpoint,
      String state,
      List<String> activeTasks,
      List<String> standbyTasks) {}

  /**
   * One routed task.
   *
   * @param task {@code stage/taskId}
   * @param active the node of its active replica, or null
   * @param standbys the nodes of its standby replicas
   */
  record TaskEntry(String task, String active, List<String> standbys) {}

  /**
   * One stage of this node.
   *
   * @param name the stage
   * @param state its Kafka Streams state, or PAUSED while a rescale paused it
   * @param applicationId the application id it runs under (a keyed stage's: its generation's)
   * @param generation a keyed state stage's generation that serves queries here, else null
   * @param otherGenerations a keyed stage's generations running beside it during a rescale, with
   *     their states, else null
   * @param localThreads its stream threads
   * @param localStores with {@code ?lags=true}: its store partitions and their lag, else null (left
   *     out of the JSON)
   */
  record StageEntry(
      String name,
      String state,
      @JsonInclude(JsonInclude.Include.NON_NULL) String applicationId,
      @JsonInclude(JsonInclude.Include.NON_NULL) Integer generation,
      @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, String> otherGenerations,
      List<ThreadEntry> localThreads,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<StoreLag> localStores) {}

  /**
   * One store partition on this node (active or standby) and how far its state is behind the end of
   * its changelog.
   *
   * @param store the store
   * @param partition the partition (the task's)
   * @param currentOffset the changelog offset the local state is at
   * @param endOffset the changelog's end offset
   * @param lag records between the two
   */
  record StoreLag(String store, int partition, long currentOffset, long endOffset, long lag) {}

  /**
   * One stream thread of this node.
   *
   * @param name thread name
   * @param state thread state
   * @param activeTasks its active task ids
   * @param standbyTasks its standby task ids
   */
  record ThreadEntry(
      String name, String state, List<String> activeTasks, List<String> standbyTasks) {}
}
