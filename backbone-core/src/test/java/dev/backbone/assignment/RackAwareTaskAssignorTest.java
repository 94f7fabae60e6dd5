package dev.backbone.assignment;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.assignment.ApplicationState;
import org.apache.kafka.streams.processor.assignment.AssignmentConfigs;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment.AssignedTask;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsState;
import org.apache.kafka.streams.processor.assignment.ProcessId;
import org.apache.kafka.streams.processor.assignment.TaskAssignmentUtils;
import org.apache.kafka.streams.processor.assignment.TaskAssignor;
import org.apache.kafka.streams.processor.assignment.TaskInfo;
import org.apache.kafka.streams.processor.assignment.TaskTopicPartition;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;

/** The adapter between Kafka Streams' {@code ApplicationState} and the placement. */
class RackAwareTaskAssignorTest {

  @Test
  void putsEveryReplicaOfATaskOnADistinctRackAndPassesKafkaStreamsValidation() {
    List<Client> clients = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      // Half the clients name their rack with client.rack, the other half with client.tag.rack.
      clients.add(new Client(i, "rack-" + (i % 3), i % 2 == 0));
    }
    State state = new State(clients, 12, 2);

    RackAwareTaskAssignor assignor = new RackAwareTaskAssignor();
    assignor.configure(Map.of(CommonClientConfigs.CLIENT_ID_CONFIG, "assignor-test"));
    TaskAssignor.TaskAssignment assignment = assignor.assign(state);

    assertThat(TaskAssignmentUtils.validateTaskAssignment(state, assignment))
        .isEqualTo(TaskAssignor.AssignmentError.NONE);
    Map<TaskId, List<String>> racksByTask = new HashMap<>();
    Map<TaskId, Integer> actives = new HashMap<>();
    for (KafkaStreamsAssignment a : assignment.assignment()) {
      String rack = "rack-" + (clientOf(a.processId()) % 3);
      for (AssignedTask t : a.tasks().values()) {
        racksByTask.computeIfAbsent(t.id(), id -> new ArrayList<>()).add(rack);
        if (t.type() == AssignedTask.Type.ACTIVE) {
          actives.merge(t.id(), 1, Integer::sum);
        }
      }
      assertThat(a.tasks().values().stream().filter(t -> t.type() == AssignedTask.Type.ACTIVE))
          .as("actives of %s", a.processId())
          .hasSize(2);
    }
    assertThat(actives).hasSize(12).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    assertThat(racksByTask)
        .hasSize(12)
        .allSatisfy((id, racks) -> assertThat(new HashSet<>(racks)).hasSize(3));
    assertThat(AssignmentMetrics.rackViolations("assignor-test")).hasValue(0);
  }

  @Test
  void reportsViolationsWhenRacksAreFewerThanReplicas() {
    List<Client> clients = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      clients.add(new Client(i, "rack-" + (i % 2), true));
    }
    RackAwareTaskAssignor assignor = new RackAwareTaskAssignor();
    assignor.configure(Map.of(CommonClientConfigs.CLIENT_ID_CONFIG, "two-racks"));
    State state = new State(clients, 4, 2);
    TaskAssignor.TaskAssignment assignment = assignor.assign(state);

    assertThat(TaskAssignmentUtils.validateTaskAssignment(state, assignment))
        .isEqualTo(TaskAssignor.AssignmentError.NONE);
    assertThat(AssignmentMetrics.rackViolations("two-racks")).hasValue(4);
  }

  private static int clientOf(ProcessId pid) {
    return (int) pid.id().getLeastSignificantBits();
  }

  private record Client(int index, String rack, boolean viaClientRack)
      implements KafkaStreamsState {
    @Override
    public ProcessId processId() {
      return new ProcessId(new UUID(0, index));
    }

    @Override
    public int numProcessingThreads() {
      return 1;
    }

    @Override
    public SortedSet<String> consumerClientIds() {
      return new TreeSet<>(Set.of("client-" + index));
    }

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
    public Map<String, String> clientTags() {
      return viaClientRack ? Map.of() : Map.of(RackAwareTaskAssignor.RACK_TAG, rack);
    }

    @Override
    public Optional<String> rackId() {
      return viaClientRack ? Optional.of(rack) : Optional.empty();
    }
  }

  private record Task(TaskId id) implements TaskInfo {
    @Override
    public boolean isStateful() {
      return true;
    }

    @Override
    public Set<String> stateStoreNames() {
      return Set.of("store");
    }

    @Override
    public Set<TaskTopicPartition> topicPartitions() {
      return Set.of();
    }
  }

  private static final class State implements ApplicationState {
    private final Map<ProcessId, KafkaStreamsState> clients = new HashMap<>();
    private final Map<TaskId, TaskInfo> tasks = new HashMap<>();
    private final int standbys;

    State(List<Client> clients, int tasks, int standbys) {
      clients.forEach(c -> this.clients.put(c.processId(), c));
      for (int p = 0; p < tasks; p++) {
        TaskId id = new TaskId(0, p);
        this.tasks.put(id, new Task(id));
      }
      this.standbys = standbys;
    }

    @Override
    public Map<ProcessId, KafkaStreamsState> kafkaStreamsStates(boolean computeTaskLags) {
      return clients;
    }

    @Override
    public AssignmentConfigs assignmentConfigs() {
      return new AssignmentConfigs(10_000L, 2, standbys, 60_000L, List.of());
    }

    @Override
    public Map<TaskId, TaskInfo> allTasks() {
      return tasks;
    }
  }
}
