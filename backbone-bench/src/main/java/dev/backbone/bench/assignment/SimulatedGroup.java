package dev.backbone.bench.assignment;

import dev.backbone.routing.RoutingTopics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.assignment.ApplicationState;
import org.apache.kafka.streams.processor.assignment.AssignmentConfigs;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsState;
import org.apache.kafka.streams.processor.assignment.ProcessId;
import org.apache.kafka.streams.processor.assignment.TaskInfo;
import org.apache.kafka.streams.processor.assignment.TaskTopicPartition;
import org.apache.kafka.streams.state.HostInfo;

/**
 * A group of {@code nodes} Kafka Streams instances with {@code threads} threads each, reading
 * {@code topics} topics of {@code partitions} partitions, one stateful subtopology per topic: the
 * {@link ApplicationState} a group leader would hand its task assignor, built through Kafka
 * Streams' public assignment API only.
 */
final class SimulatedGroup implements ApplicationState {
  private final Map<ProcessId, KafkaStreamsState> clients = new TreeMap<>();
  private final Map<ProcessId, HostInfo> endpoints = new HashMap<>();
  private final Map<TaskId, TaskInfo> tasks = new TreeMap<>();
  private final AssignmentConfigs configs;

  SimulatedGroup(int nodes, int threads, int partitions, int topics, int standbys, long seed) {
    java.util.Random random = new java.util.Random(seed);
    for (int n = 0; n < nodes; n++) {
      ProcessId id = new ProcessId(new UUID(random.nextLong(), random.nextLong()));
      SortedSet<String> consumers = new TreeSet<>();
      for (int t = 1; t <= threads; t++) {
        consumers.add("node-" + n + "-StreamThread-" + t + "-consumer");
      }
      String nodeId = "node-" + n;
      clients.put(
          id,
          new Client(
              id,
              threads,
              consumers,
              Map.of(RoutingTopics.NODE_ID_TAG, nodeId),
              "rack-" + (n % 3)));
      endpoints.put(id, new HostInfo("node-" + n + ".backbone.internal", 7070));
    }
    for (int s = 0; s < topics; s++) {
      for (int p = 0; p < partitions; p++) {
        TaskId id = new TaskId(s, p);
        tasks.put(id, new Task(id, Set.of(new Source(new TopicPartition("events-" + s, p)))));
      }
    }
    configs =
        new AssignmentConfigs(
            10_000L,
            2,
            standbys,
            600_000L,
            List.of(),
            OptionalInt.empty(),
            OptionalInt.empty(),
            "none");
  }

  @Override
  public Map<ProcessId, KafkaStreamsState> kafkaStreamsStates(boolean computeTaskLags) {
    return clients;
  }

  @Override
  public AssignmentConfigs assignmentConfigs() {
    return configs;
  }

  @Override
  public Map<TaskId, TaskInfo> allTasks() {
    return tasks;
  }

  /** The {@code application.server} each instance would advertise. */
  HostInfo endpoint(ProcessId id) {
    return endpoints.get(id);
  }

  /** The source partitions of a task. */
  Set<TopicPartition> partitions(TaskId task) {
    Set<TopicPartition> result = new java.util.HashSet<>();
    tasks.get(task).topicPartitions().forEach(tp -> result.add(tp.topicPartition()));
    return result;
  }

  /** An instance with no previous tasks: the first assignment of a fresh group. */
  private record Client(
      ProcessId processId,
      int numProcessingThreads,
      SortedSet<String> consumerClientIds,
      Map<String, String> clientTags,
      String rack)
      implements KafkaStreamsState {
    @Override
    public SortedSet<TaskId> previousActiveTasks() {
      return new TreeSet<>();
    }

    @Override
    public SortedSet<TaskId> previousStandbyTasks() {
      return new TreeSet<>();
    }

    @Override
    public long lagFor(TaskId task) {
      return 0;
    }

    @Override
    public SortedSet<TaskId> prevTasksByLag(String consumerClientId) {
      return new TreeSet<>();
    }

    @Override
    public Map<TaskId, Long> statefulTasksToLagSums() {
      return Map.of();
    }

    @Override
    public Optional<HostInfo> hostInfo() {
      return Optional.empty();
    }

    @Override
    public Optional<String> rackId() {
      return Optional.of(rack);
    }
  }

  private record Task(TaskId id, Set<TaskTopicPartition> topicPartitions) implements TaskInfo {
    @Override
    public boolean isStateful() {
      return true;
    }

    @Override
    public Set<String> stateStoreNames() {
      return Set.of("store-" + id.subtopology());
    }
  }

  private record Source(TopicPartition topicPartition) implements TaskTopicPartition {
    @Override
    public boolean isSource() {
      return true;
    }

    @Override
    public boolean isChangelog() {
      return false;
    }

    @Override
    public Optional<Set<String>> rackIds() {
      return Optional.empty();
    }
  }

  /** Splits an instance's tasks over its threads round-robin, as evenly as Kafka Streams does. */
  static List<List<TaskId>> perThread(List<TaskId> tasks, int threads) {
    List<List<TaskId>> result = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      result.add(new ArrayList<>());
    }
    for (int i = 0; i < tasks.size(); i++) {
      result.get(i % threads).add(tasks.get(i));
    }
    return result;
  }
}
