package dev.backbone.routing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.assignment.ApplicationState;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment.AssignedTask;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsState;
import org.apache.kafka.streams.processor.assignment.ProcessId;
import org.apache.kafka.streams.processor.assignment.TaskAssignor.TaskAssignment;

/**
 * Where every task of one Kafka Streams application runs in one generation, and so where every key
 * lives: the replacement for the host maps that {@code application.server} copies into every
 * member's assignment.
 *
 * <p>What must hold: the table is canonical, so that encoding round-trips exactly and two tables
 * with the same content are equal. Tasks are sorted by id, and the tasks of each subtopology are
 * dense ({@code 0..n-1}): a gap is filled with an unassigned task, because the partition count of a
 * subtopology, and so the key-to-task function, is read off the table. Every process id a task
 * names is in the member dictionary.
 *
 * @param applicationId the {@code application.id} of the Kafka Streams application
 * @param generation increases with every published table of the application
 * @param createdMs when the group leader computed the table (epoch ms)
 * @param members the process-id dictionary, one entry per instance of the group
 * @param tasks every task with its active and standby process ids, canonical order
 */
public record RoutingTable(
    String applicationId,
    long generation,
    long createdMs,
    List<RoutedMember> members,
    List<TaskRoute> tasks) {

  /** Checks the arguments and brings the tasks into canonical form. */
  public RoutingTable {
    Objects.requireNonNull(applicationId, "applicationId");
    if (generation < 0 || createdMs < 0) {
      throw new IllegalArgumentException(
          "generation and createdMs are non-negative: " + generation + ", " + createdMs);
    }
    members = List.copyOf(members);
    Set<UUID> known = new HashSet<>();
    for (RoutedMember m : members) {
      if (!known.add(m.processId())) {
        throw new IllegalArgumentException("process " + m.processId() + " is listed twice");
      }
    }
    tasks = canonical(tasks, known);
  }

  private static List<TaskRoute> canonical(List<TaskRoute> tasks, Set<UUID> known) {
    SortedMap<TaskId, TaskRoute> byId = new TreeMap<>();
    for (TaskRoute route : tasks) {
      if (byId.put(route.task(), route) != null) {
        throw new IllegalArgumentException("task " + route.task() + " is listed twice");
      }
      List<UUID> named = new ArrayList<>(route.standbys());
      route.active().ifPresent(named::add);
      for (UUID p : named) {
        if (!known.contains(p)) {
          throw new IllegalArgumentException(
              "task " + route.task() + " names process " + p + ", which is not a member");
        }
      }
    }
    Map<Integer, Integer> counts = partitionCounts(byId.keySet());
    List<TaskRoute> dense = new ArrayList<>();
    counts.forEach(
        (sub, count) -> {
          for (int p = 0; p < count; p++) {
            TaskId id = new TaskId(sub, p);
            dense.add(byId.getOrDefault(id, TaskRoute.unassigned(id)));
          }
        });
    return Collections.unmodifiableList(dense);
  }

  private static Map<Integer, Integer> partitionCounts(Iterable<TaskId> ids) {
    Map<Integer, Integer> counts = new TreeMap<>();
    for (TaskId id : ids) {
      counts.merge(id.subtopology(), id.partition() + 1, Math::max);
    }
    return counts;
  }

  /** An empty table (no tasks, no members) of generation 0: what a node knows before any. */
  public static RoutingTable empty(String applicationId) {
    return new RoutingTable(applicationId, 0, 0, List.of(), List.of());
  }

  /**
   * The table of a computed assignment (generation 0: the publisher numbers it). Members are the
   * group's instances in process-id order, each named by its {@value RoutingTopics#NODE_ID_TAG}
   * client tag (or its process id) and rack; tasks are every task of the application.
   *
   * @param applicationId the application id
   * @param createdMs when the assignment was computed
   * @param state what the assignor saw
   * @param assignment what it decided
   */
  public static RoutingTable fromAssignment(
      String applicationId, long createdMs, ApplicationState state, TaskAssignment assignment) {
    SortedMap<ProcessId, KafkaStreamsState> clients =
        new TreeMap<>(state.kafkaStreamsStates(false));
    List<RoutedMember> members = new ArrayList<>();
    for (KafkaStreamsState client : clients.values()) {
      UUID id = client.processId().id();
      String nodeId = client.clientTags().getOrDefault(RoutingTopics.NODE_ID_TAG, id.toString());
      members.add(new RoutedMember(id, nodeId, client.rackId().orElse("")));
    }
    Map<TaskId, UUID> active = new TreeMap<>();
    Map<TaskId, SortedMap<ProcessId, UUID>> standbys = new TreeMap<>();
    for (KafkaStreamsAssignment a : assignment.assignment()) {
      for (AssignedTask task : a.tasks().values()) {
        if (task.type() == AssignedTask.Type.ACTIVE) {
          active.put(task.id(), a.processId().id());
        } else {
          standbys
              .computeIfAbsent(task.id(), t -> new TreeMap<>())
              .put(a.processId(), a.processId().id());
        }
      }
    }
    List<TaskRoute> routes = new ArrayList<>();
    for (TaskId task : new java.util.TreeSet<>(state.allTasks().keySet())) {
      routes.add(
          new TaskRoute(
              task,
              Optional.ofNullable(active.get(task)),
              List.copyOf(standbys.getOrDefault(task, new TreeMap<>()).values())));
    }
    return new RoutingTable(applicationId, 0, createdMs, members, routes);
  }

  /** The partition (task) count of each subtopology, by subtopology id. */
  public Map<Integer, Integer> partitionCounts() {
    return partitionCounts(tasks.stream().map(TaskRoute::task).toList());
  }

  /**
   * The task that holds a key of a subtopology: the partition the producer's default partitioner
   * picks for the key, among the subtopology's tasks.
   *
   * @param subtopology the subtopology that reads the key's topic (and holds its store)
   * @param serializedKey the key as the producer serialized it
   * @return the task; empty when this table has no task of the subtopology
   */
  public Optional<TaskId> taskOf(int subtopology, byte[] serializedKey) {
    Integer count = partitionCounts().get(subtopology);
    if (count == null) {
      return Optional.empty();
    }
    return Optional.of(new TaskId(subtopology, KeyToTask.partition(serializedKey, count)));
  }

  /** The route of a task; empty if the table does not know it. */
  public Optional<TaskRoute> route(TaskId task) {
    for (TaskRoute r : tasks) {
      if (r.task().equals(task)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }

  /** The dictionary entry of a process id. */
  public Optional<RoutedMember> member(UUID processId) {
    return members.stream().filter(m -> m.processId().equals(processId)).findFirst();
  }

  /** The tasks each process runs, active first, by process id in member order. */
  public Map<UUID, List<TaskId>> activeTasksByProcess() {
    Map<UUID, List<TaskId>> result = new LinkedHashMap<>();
    members.forEach(m -> result.put(m.processId(), new ArrayList<>()));
    tasks.forEach(r -> r.active().ifPresent(p -> result.get(p).add(r.task())));
    return result;
  }

  /** The same table with another generation. */
  public RoutingTable withGeneration(long newGeneration) {
    return new RoutingTable(applicationId, newGeneration, createdMs, members, tasks);
  }
}
