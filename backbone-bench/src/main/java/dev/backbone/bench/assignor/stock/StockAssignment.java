package dev.backbone.bench.assignor.stock;

import dev.backbone.assignment.internals.ClientSpec;
import dev.backbone.assignment.internals.PlacementInput;
import dev.backbone.assignment.internals.TaskSpec;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.assignment.AssignmentConfigs;
import org.apache.kafka.streams.processor.assignment.ProcessId;
import org.apache.kafka.streams.processor.internals.TopologyMetadata.Subtopology;
import org.apache.kafka.streams.processor.internals.assignment.ClientState;
import org.apache.kafka.streams.processor.internals.assignment.HighAvailabilityTaskAssignor;
import org.apache.kafka.streams.processor.internals.assignment.RackAwareTaskAssignor;

/**
 * Stock Kafka Streams' {@code HighAvailabilityTaskAssignor} with {@code
 * rack.aware.assignment.tags=rack} (KIP-708 client tags), with and without {@code
 * rack.aware.assignment.strategy=balance_subtopology} (KIP-925), run over the same model Backbone's
 * placement takes.
 */
public final class StockAssignment {
  /** The client tag that carries the rack. */
  public static final String RACK_TAG = "rack";

  private static final long LATEST_OFFSET = -2L;

  private StockAssignment() {}

  /**
   * The stock outcome.
   *
   * @param active the active client of each task
   * @param standbys the standby clients of each task (including stock's warm-ups)
   * @param nanos time spent in the stock assignor
   * @param trafficOptimizerRan whether stock's rack-aware traffic optimizer found the racks it
   *     needs and ran (it silently stays off when a client or partition has no rack)
   */
  public record Outcome(int[] active, int[][] standbys, long nanos, boolean trafficOptimizerRan) {}

  /** Runs stock's high-availability assignor with rack tags on the input. */
  public static Outcome highAvailabilityWithRackTags(PlacementInput input) {
    return highAvailability(input, StreamsConfig.RACK_AWARE_ASSIGNMENT_STRATEGY_NONE);
  }

  /**
   * Runs stock's high-availability assignor with rack tags and {@code
   * rack.aware.assignment.strategy=balance_subtopology} (KIP-925), whose optimizer moves tasks to
   * lower cross-rack traffic to the partitions' replicas within balance limits. The generator has
   * no brokers, so partitions get racks here: one broker per client rack, every task's source and
   * changelog partition replicated {@code min(3, racks)} times, on consecutive racks starting at
   * the task's index modulo the racks (so leaders rotate over the racks).
   */
  public static Outcome highAvailabilityWithRackTagsAndBalanceSubtopology(PlacementInput input) {
    return highAvailability(
        input, StreamsConfig.RACK_AWARE_ASSIGNMENT_STRATEGY_BALANCE_SUBTOPOLOGY);
  }

  private static Outcome highAvailability(PlacementInput input, String strategy) {
    List<TaskId> taskIds = new ArrayList<>();
    Set<TaskId> all = new TreeSet<>();
    Set<TaskId> stateful = new TreeSet<>();
    Map<TaskId, Integer> index = new java.util.HashMap<>();
    for (int t = 0; t < input.tasks().size(); t++) {
      TaskSpec spec = input.tasks().get(t);
      TaskId id = new TaskId(spec.subtopology(), t);
      taskIds.add(id);
      index.put(id, t);
      all.add(id);
      if (spec.stateful()) {
        stateful.add(id);
      }
    }
    Map<ProcessId, ClientState> clients = new TreeMap<>();
    List<ProcessId> pids = new ArrayList<>();
    for (int c = 0; c < input.clients().size(); c++) {
      ClientSpec spec = input.clients().get(c);
      ProcessId pid = new ProcessId(new UUID(0, c));
      pids.add(pid);
      Map<String, String> tags =
          spec.rack() == null ? Map.of(RACK_TAG, "none-" + c) : Map.of(RACK_TAG, spec.rack());
      clients.put(
          pid,
          new ClientState(
              ids(spec.previousActive(), taskIds),
              ids(spec.previousStandby(), taskIds),
              new Lags(spec, stateful, index),
              tags,
              spec.threads(),
              pid));
    }
    AssignmentConfigs configs =
        new AssignmentConfigs(
            input.acceptableRecoveryLag(),
            Math.max(1, input.maxWarmups()),
            input.standbys(),
            600_000L,
            List.of(RACK_TAG),
            java.util.OptionalInt.empty(),
            java.util.OptionalInt.empty(),
            strategy);
    RackAwareTaskAssignor trafficOptimizer =
        StreamsConfig.RACK_AWARE_ASSIGNMENT_STRATEGY_NONE.equals(strategy)
            ? new RackAwareTaskAssignor(
                Cluster.empty(), Map.of(), Map.of(), Map.of(), Map.of(), null, configs, Time.SYSTEM)
            : partitionsOnRacks(input, taskIds, pids, configs);
    long start = System.nanoTime();
    new HighAvailabilityTaskAssignor().assign(clients, all, stateful, trafficOptimizer, configs);
    long nanos = System.nanoTime() - start;

    int[] active = new int[taskIds.size()];
    List<List<Integer>> standbys = new ArrayList<>();
    taskIds.forEach(t -> standbys.add(new ArrayList<>()));
    for (int c = 0; c < pids.size(); c++) {
      ClientState state = clients.get(pids.get(c));
      for (TaskId id : state.activeTasks()) {
        active[index.get(id)] = c;
      }
      for (TaskId id : state.standbyTasks()) {
        standbys.get(index.get(id)).add(c);
      }
    }
    int[][] standbyArrays = new int[taskIds.size()][];
    for (int t = 0; t < taskIds.size(); t++) {
      standbyArrays[t] = standbys.get(t).stream().mapToInt(Integer::intValue).toArray();
    }
    return new Outcome(active, standbyArrays, nanos, trafficOptimizer.canEnableRackAwareAssignor());
  }

  /** Stock's traffic optimizer over brokers and partitions placed as described above. */
  private static RackAwareTaskAssignor partitionsOnRacks(
      PlacementInput input, List<TaskId> taskIds, List<ProcessId> pids, AssignmentConfigs configs) {
    List<String> racks =
        input.clients().stream()
            .map(ClientSpec::rack)
            .filter(r -> r != null)
            .distinct()
            .sorted()
            .toList();
    if (racks.isEmpty()) {
      racks = List.of("rack-0");
    }
    List<Node> brokers = new ArrayList<>();
    for (int b = 0; b < racks.size(); b++) {
      brokers.add(new Node(b, "broker-" + b, 9092, racks.get(b)));
    }
    int replication = Math.min(3, brokers.size());
    List<PartitionInfo> sources = new ArrayList<>();
    Map<String, List<TopicPartitionInfo>> changelogs = new TreeMap<>();
    Map<TaskId, Set<TopicPartition>> sourceOf = new TreeMap<>();
    Map<TaskId, Set<TopicPartition>> changelogOf = new TreeMap<>();
    Map<Subtopology, Set<TaskId>> bySubtopology = new TreeMap<>();
    for (int t = 0; t < taskIds.size(); t++) {
      TaskId id = taskIds.get(t);
      Node[] replicas = new Node[replication];
      for (int r = 0; r < replication; r++) {
        replicas[r] = brokers.get((t + r) % brokers.size());
      }
      String source = "source-" + id.subtopology();
      sources.add(new PartitionInfo(source, t, replicas[0], replicas, replicas));
      sourceOf.put(id, Set.of(new TopicPartition(source, t)));
      bySubtopology
          .computeIfAbsent(new Subtopology(id.subtopology(), null), s -> new TreeSet<>())
          .add(id);
      if (input.tasks().get(t).stateful()) {
        String changelog = "changelog-" + id.subtopology();
        changelogs
            .computeIfAbsent(changelog, c -> new ArrayList<>())
            .add(new TopicPartitionInfo(t, replicas[0], List.of(replicas), List.of(replicas)));
        changelogOf.put(id, Set.of(new TopicPartition(changelog, t)));
      } else {
        changelogOf.put(id, Set.of());
      }
    }
    Map<ProcessId, Map<String, Optional<String>>> consumerRacks = new TreeMap<>();
    for (int c = 0; c < pids.size(); c++) {
      consumerRacks.put(
          pids.get(c), Map.of("consumer-" + c, Optional.ofNullable(input.clients().get(c).rack())));
    }
    Cluster cluster = new Cluster("stock-comparison", brokers, sources, Set.of(), Set.of());
    return new RackAwareTaskAssignor(
        cluster,
        sourceOf,
        changelogOf,
        bySubtopology,
        consumerRacks,
        new StaticTopicDescriptions(changelogs),
        configs,
        Time.SYSTEM);
  }

  private static Set<TaskId> ids(Set<Integer> tasks, List<TaskId> taskIds) {
    Set<TaskId> ids = new TreeSet<>();
    for (int t : tasks) {
      if (t >= 0 && t < taskIds.size()) {
        ids.add(taskIds.get(t));
      }
    }
    return ids;
  }

  /**
   * A client's lag for every stateful task, as stock expects, computed on demand: materialising
   * 1,200 clients x 10,000 tasks of boxed lags would cost gigabytes. No local copy = lag of a full
   * changelog.
   */
  private static final class Lags extends AbstractMap<TaskId, Long> {
    private static final long NO_COPY = 1_000_000_000L;
    private final ClientSpec client;
    private final Set<TaskId> stateful;
    private final Map<TaskId, Integer> index;

    Lags(ClientSpec client, Set<TaskId> stateful, Map<TaskId, Integer> index) {
      this.client = client;
      this.stateful = stateful;
      this.index = index;
    }

    @Override
    public Long get(Object key) {
      if (!stateful.contains(key)) {
        return null;
      }
      int t = index.get(key);
      Long lag = client.lags().get(t);
      if (lag == null) {
        return NO_COPY;
      }
      return lag < 0 ? LATEST_OFFSET : lag;
    }

    @Override
    public boolean containsKey(Object key) {
      return stateful.contains(key);
    }

    @Override
    public Set<Entry<TaskId, Long>> entrySet() {
      Set<Entry<TaskId, Long>> entries = new java.util.LinkedHashSet<>();
      for (TaskId id : stateful) {
        entries.add(new SimpleImmutableEntry<>(id, get(id)));
      }
      return entries;
    }
  }
}
