package dev.backbone.server.internals;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;

/**
 * {@code GET /v1/cluster}, built from Kafka Streams' own metadata: the nodes seen through the
 * stages that set {@code application.server} (those that hold a queryable store), and this node's
 * threads. Backbone's routing table replaces the node list later.
 */
final class ClusterView {
  private ClusterView() {}

  static ClusterAnswer of(LocalNode node) {
    Map<String, Set<String>> active = new TreeMap<>();
    Map<String, Set<String>> standby = new TreeMap<>();
    List<StageEntry> stages = new ArrayList<>();
    for (String name : node.stageNames()) {
      RunningStage stage = node.stage(name).orElse(null);
      if (stage == null) {
        stages.add(new StageEntry(name, "NOT_STARTED", List.of()));
        continue;
      }
      KafkaStreams streams = stage.streams();
      for (StreamsMetadata member : allClients(streams)) {
        String endpoint = member.host() + ":" + member.port();
        addTasks(active, endpoint, name, stage.topology().taskIds(member.topicPartitions()));
        addTasks(
            standby, endpoint, name, stage.topology().taskIds(member.standbyTopicPartitions()));
      }
      List<ThreadEntry> threads = new ArrayList<>();
      for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
        threads.add(
            new ThreadEntry(
                thread.threadName(),
                thread.threadState(),
                taskIds(thread.activeTasks()),
                taskIds(thread.standbyTasks())));
      }
      threads.sort((a, b) -> a.name().compareTo(b.name()));
      stages.add(new StageEntry(name, streams.state().name(), threads));
    }
    Set<String> endpoints = new TreeSet<>(active.keySet());
    endpoints.addAll(standby.keySet());
    List<NodeEntry> nodes = new ArrayList<>();
    for (String endpoint : endpoints) {
      nodes.add(
          new NodeEntry(
              endpoint,
              List.copyOf(active.getOrDefault(endpoint, Set.of())),
              List.copyOf(standby.getOrDefault(endpoint, Set.of()))));
    }
    return new ClusterAnswer(node.nodeId(), nodes, stages);
  }

  private static Collection<StreamsMetadata> allClients(KafkaStreams streams) {
    try {
      return streams.metadataForAllStreamsClients();
    } catch (IllegalStateException e) {
      // Not running or rebalancing (created, shutting down): no view of the group to show.
      return List.of();
    }
  }

  private static void addTasks(
      Map<String, Set<String>> byEndpoint, String endpoint, String stage, Set<String> taskIds) {
    Set<String> tasks = byEndpoint.computeIfAbsent(endpoint, e -> new TreeSet<>());
    taskIds.forEach(task -> tasks.add(stage + "/" + task));
  }

  private static List<String> taskIds(Set<TaskMetadata> tasks) {
    return tasks.stream().map(t -> t.taskId().toString()).sorted().toList();
  }

  /**
   * The cluster as this node sees it.
   *
   * @param node this node's id
   * @param nodes every member seen through the stages' metadata, by HTTP endpoint
   * @param stages this node's stages
   */
  record ClusterAnswer(String node, List<NodeEntry> nodes, List<StageEntry> stages) {}

  /**
   * One member of the cluster.
   *
   * @param endpoint its HTTP endpoint, {@code host:port}
   * @param activeTasks its active tasks as {@code stage/taskId}
   * @param standbyTasks its standby tasks as {@code stage/taskId}
   */
  record NodeEntry(String endpoint, List<String> activeTasks, List<String> standbyTasks) {}

  /**
   * One stage of this node.
   *
   * @param name the stage
   * @param state its Kafka Streams state
   * @param localThreads its stream threads
   */
  record StageEntry(String name, String state, List<ThreadEntry> localThreads) {}

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
