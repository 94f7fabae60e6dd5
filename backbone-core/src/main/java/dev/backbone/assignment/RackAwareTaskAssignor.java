package dev.backbone.assignment;

import dev.backbone.assignment.internals.ClientSpec;
import dev.backbone.assignment.internals.Placement;
import dev.backbone.assignment.internals.PlacementInput;
import dev.backbone.assignment.internals.RackAwarePlacer;
import dev.backbone.assignment.internals.TaskSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.assignment.ApplicationState;
import org.apache.kafka.streams.processor.assignment.AssignmentConfigs;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment.AssignedTask;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsState;
import org.apache.kafka.streams.processor.assignment.ProcessId;
import org.apache.kafka.streams.processor.assignment.TaskAssignor;
import org.apache.kafka.streams.processor.assignment.TaskInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KIP-924 task assignor that never puts two replicas of a task (its active, standbys and warm-up)
 * on one rack while there are at least as many racks as replicas; then gives every stateful task
 * its {@code num.standby.replicas} standbys, balances by stream threads, stays sticky, and runs an
 * active only on a caught-up copy, or on the least-lagging one when none is caught up (warm-ups and
 * a follow-up rebalance to move it anywhere else). Enable it with {@code
 * task.assignor.class=dev.backbone.assignment.RackAwareTaskAssignor}; a client's rack is its {@code
 * client.rack}, or else its {@code client.tag.rack}. A client with neither is a rack of its own,
 * and is reported.
 *
 * <p>When the rule cannot hold, the assignment is the best possible, one warning names the tasks
 * and racks, and {@link AssignmentMetrics#RACK_VIOLATIONS} counts them.
 *
 * <p>Not final: a subclass may override {@link #onAssignmentComputed} (calling {@code super}) to
 * publish the assignment, e.g. as a routing table. Kafka Streams creates one instance per rebalance
 * and calls {@link #configure} first.
 */
public class RackAwareTaskAssignor implements TaskAssignor {
  /** The client tag holding the rack when {@code client.rack} is not set. */
  public static final String RACK_TAG = "rack";

  private static final Logger log = LoggerFactory.getLogger(RackAwareTaskAssignor.class);
  private static final int TASKS_NAMED_IN_A_WARNING = 20;
  private static final String STREAM_THREAD_SUFFIX = "-StreamThread-";

  private String metricsKey = "unknown";

  /** Creates the assignor; Kafka Streams does this by reflection. */
  public RackAwareTaskAssignor() {}

  @Override
  public void configure(Map<String, ?> configs) {
    Object clientId = configs.get(CommonClientConfigs.CLIENT_ID_CONFIG);
    Object appId = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
    if (clientId != null && !clientId.toString().isBlank()) {
      // The assignor sees its stream thread's consumer id, "<client.id>-StreamThread-<n>-consumer".
      String id = clientId.toString();
      int thread = id.lastIndexOf(STREAM_THREAD_SUFFIX);
      metricsKey = thread > 0 ? id.substring(0, thread) : id;
    } else if (appId != null) {
      metricsKey = appId.toString();
    }
  }

  @Override
  public TaskAssignment assign(ApplicationState applicationState) {
    AssignmentConfigs configs = applicationState.assignmentConfigs();
    Map<ProcessId, KafkaStreamsState> states =
        new TreeMap<>(applicationState.kafkaStreamsStates(true));
    List<TaskId> taskIds = new ArrayList<>(new TreeMap<>(applicationState.allTasks()).keySet());
    Map<TaskId, Integer> taskIndex = new HashMap<>();
    List<TaskSpec> tasks = new ArrayList<>();
    for (TaskId id : taskIds) {
      TaskInfo info = applicationState.allTasks().get(id);
      taskIndex.put(id, tasks.size());
      tasks.add(new TaskSpec(id.toString(), id.subtopology(), info.isStateful()));
    }
    List<ProcessId> processes = new ArrayList<>(states.keySet());
    List<ClientSpec> clients = new ArrayList<>();
    for (ProcessId pid : processes) {
      clients.add(clientSpec(states.get(pid), taskIndex, configs.acceptableRecoveryLag()));
    }
    Placement placement =
        RackAwarePlacer.place(
            new PlacementInput(
                clients,
                tasks,
                configs.numStandbyReplicas(),
                configs.acceptableRecoveryLag(),
                configs.maxWarmupReplicas()));
    report(placement, taskIds);

    List<Set<AssignedTask>> perClient = new ArrayList<>();
    processes.forEach(p -> perClient.add(new HashSet<>()));
    for (int t = 0; t < taskIds.size(); t++) {
      TaskId id = taskIds.get(t);
      perClient.get(placement.active()[t]).add(new AssignedTask(id, AssignedTask.Type.ACTIVE));
      for (int s : placement.standbys()[t]) {
        perClient.get(s).add(new AssignedTask(id, AssignedTask.Type.STANDBY));
      }
    }
    for (Placement.Warmup w : placement.warmups()) {
      perClient
          .get(w.client())
          .add(new AssignedTask(taskIds.get(w.task()), AssignedTask.Type.STANDBY));
    }
    Instant followup =
        placement.followupRebalance()
            ? Instant.now().plusMillis(configs.probingRebalanceIntervalMs())
            : null;
    List<KafkaStreamsAssignment> assignments = new ArrayList<>();
    for (int c = 0; c < processes.size(); c++) {
      KafkaStreamsAssignment a = KafkaStreamsAssignment.of(processes.get(c), perClient.get(c));
      assignments.add(followup == null ? a : a.withFollowupRebalance(followup));
    }
    return new TaskAssignment(assignments);
  }

  private static ClientSpec clientSpec(
      KafkaStreamsState state, Map<TaskId, Integer> taskIndex, long acceptableLag) {
    String rack = state.rackId().orElse(state.clientTags().get(RACK_TAG));
    Set<Integer> active = indexes(state.previousActiveTasks(), taskIndex);
    Set<Integer> standby = indexes(state.previousStandbyTasks(), taskIndex);
    Map<Integer, Long> lags = new HashMap<>();
    for (Map.Entry<TaskId, Long> e : state.statefulTasksToLagSums().entrySet()) {
      Integer index = taskIndex.get(e.getKey());
      // Only copies that matter: caught-up ones (rule 5), and previous ones (stickiness, and the
      // least-lagging copy an active fails over to when none is caught up). A stale copy left on
      // disk by an older assignment is not passed unless it is caught up.
      if (index != null
          && (e.getValue() <= acceptableLag || active.contains(index) || standby.contains(index))) {
        lags.put(index, e.getValue());
      }
    }
    String name =
        state.consumerClientIds().isEmpty()
            ? state.processId().toString()
            : state.consumerClientIds().first() + "/" + state.processId();
    return new ClientSpec(name, rack, state.numProcessingThreads(), active, standby, lags);
  }

  private static Set<Integer> indexes(Set<TaskId> ids, Map<TaskId, Integer> taskIndex) {
    Set<Integer> result = new HashSet<>();
    for (TaskId id : ids) {
      Integer index = taskIndex.get(id);
      if (index != null) {
        result.add(index);
      }
    }
    return result;
  }

  private void report(Placement placement, List<TaskId> taskIds) {
    AssignmentMetrics.recordRackViolations(metricsKey, placement.violations().size());
    if (!placement.racklessClients().isEmpty()) {
      log.warn(
          "Clients without client.rack or client.tag.{} are each treated as a rack of their own: {}",
          RACK_TAG,
          placement.racklessClients());
    }
    if (placement.violations().isEmpty()) {
      log.info(
          "{}: assigned {} tasks on {} racks; every task's replicas are on distinct racks{}",
          metricsKey,
          taskIds.size(),
          placement.racks(),
          placement.followupRebalance()
              ? "; " + placement.warmups().size() + " warm-ups, follow-up rebalance scheduled"
              : "");
      return;
    }
    String named =
        placement.violations().stream()
            .limit(TASKS_NAMED_IN_A_WARNING)
            .map(v -> taskIds.get(v.task()) + " on " + v.racks())
            .collect(Collectors.joining(", "));
    int more = placement.violations().size() - TASKS_NAMED_IN_A_WARNING;
    log.warn(
        "{}: rack rule cannot hold: {} tasks have two replicas on one rack because the clients span"
            + " only {} racks for {} replicas per task; add racks or lower num.standby.replicas."
            + " Tasks: {}{}",
        metricsKey,
        placement.violations().size(),
        placement.racks(),
        placement.violations().get(0).racks().size(),
        named,
        more > 0 ? " and " + more + " more" : "");
  }

  @Override
  public void onAssignmentComputed(
      org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupAssignment assignment,
      org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription subscription,
      AssignmentError error) {
    if (error != AssignmentError.NONE) {
      log.error("Kafka Streams rejected the rack-aware assignment: {}", error);
    }
  }
}
