package dev.backbone.bench.assignment;

import dev.backbone.bench.BenchReport;
import dev.backbone.bench.assignment.streamsinternals.StreamsAssignmentEncoder;
import dev.backbone.routing.RoutingCodec;
import dev.backbone.routing.RoutingTable;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.internals.AppInfoParser;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment.AssignedTask;
import org.apache.kafka.streams.processor.assignment.ProcessId;
import org.apache.kafka.streams.processor.assignment.TaskAssignor.TaskAssignment;
import org.apache.kafka.streams.processor.assignment.assignors.StickyTaskAssignor;
import org.apache.kafka.streams.state.HostInfo;

/**
 * How many bytes one rebalance ships, stock Kafka Streams with {@code application.server} vs
 * Backbone, for a simulated group (default 400 nodes x 3 threads, two topics of 2,400 partitions,
 * one standby), plus the real rebalance time of the largest group this machine runs.
 *
 * <p>Both sides assign with Kafka's public {@link StickyTaskAssignor} (the default delegate of
 * Backbone's publishing assignor) and split each instance's tasks over its threads; every thread's
 * consumer receives its own {@code AssignmentInfo}, encoded by Kafka Streams' own encoder. Stock:
 * with every host's active and standby partitions (what {@code application.server} adds). Backbone:
 * the same assignment with empty host maps (what Kafka Streams sends without {@code
 * application.server}), plus the encoded routing table, counted once.
 */
public final class AssignmentSizeBenchmark {
  /**
   * What to run.
   *
   * @param nodes simulated Kafka Streams instances
   * @param threads stream threads per instance
   * @param partitions partitions per topic
   * @param topics source topics, one stateful subtopology each
   * @param standbys standby replicas per task
   * @param realInstances instances of the real rebalance (0 skips it)
   * @param realPartitions partitions of the real rebalance's input topic
   * @param timeout bound of each real rebalance
   */
  public record Spec(
      int nodes,
      int threads,
      int partitions,
      int topics,
      int standbys,
      int realInstances,
      int realPartitions,
      Duration timeout) {}

  /**
   * Sizes of one simulated rebalance.
   *
   * @param stockBytes all consumers' assignments with host maps
   * @param stockPre24Bytes the same with the pre-2.4 encoding (protocol version 4)
   * @param stockLargest the largest single consumer's, stock
   * @param backboneAssignmentBytes all consumers' assignments without host maps
   * @param routingTableBytes the encoded routing table
   * @param backboneLargest the largest single consumer's, Backbone
   * @param consumers consumers in the group
   * @param tasks tasks assigned
   */
  public record Sizes(
      long stockBytes,
      long stockPre24Bytes,
      long stockLargest,
      long backboneAssignmentBytes,
      long routingTableBytes,
      long backboneLargest,
      int consumers,
      int tasks) {
    /** Backbone's total: assignments plus the table once. */
    public long backboneBytes() {
      return backboneAssignmentBytes + routingTableBytes;
    }

    /** Stock total over Backbone total. */
    public double ratio() {
      return (double) stockBytes / backboneBytes();
    }
  }

  private AssignmentSizeBenchmark() {}

  /** Runs the simulation, then the real rebalances, and prints the report. */
  public static void run(Spec spec, PrintStream out) throws Exception {
    out.printf(
        "simulating %d nodes x %d threads, %d topics x %d partitions, %d standby ...%n",
        spec.nodes(), spec.threads(), spec.topics(), spec.partitions(), spec.standbys());
    Sizes sizes = simulate(spec);
    List<RealRebalance.Result> real = new ArrayList<>();
    if (spec.realInstances() > 0) {
      real = RealRebalance.run(spec.realInstances(), spec.realPartitions(), spec.timeout(), out);
    }
    report(spec, sizes, real).print(out);
  }

  /** The simulated sizes. */
  public static Sizes simulate(Spec spec) {
    SimulatedGroup group =
        new SimulatedGroup(
            spec.nodes(), spec.threads(), spec.partitions(), spec.topics(), spec.standbys(), 42L);
    TaskAssignment assignment = new StickyTaskAssignor().assign(group);
    Map<HostInfo, Set<TopicPartition>> activeByHost = new HashMap<>();
    Map<HostInfo, Set<TopicPartition>> standbyByHost = new HashMap<>();
    Map<ProcessId, List<TaskId>> active = new TreeMap<>();
    Map<ProcessId, List<TaskId>> standby = new TreeMap<>();
    for (KafkaStreamsAssignment a : assignment.assignment()) {
      HostInfo host = group.endpoint(a.processId());
      for (AssignedTask t : a.tasks().values()) {
        boolean isActive = t.type() == AssignedTask.Type.ACTIVE;
        (isActive ? active : standby)
            .computeIfAbsent(a.processId(), p -> new ArrayList<>())
            .add(t.id());
        (isActive ? activeByHost : standbyByHost)
            .computeIfAbsent(host, h -> new java.util.HashSet<>())
            .addAll(group.partitions(t.id()));
      }
    }
    long stock = 0;
    long pre24 = 0;
    long stockLargest = 0;
    long backbone = 0;
    long backboneLargest = 0;
    int consumers = 0;
    for (ProcessId process : group.kafkaStreamsStates(false).keySet()) {
      List<List<TaskId>> activeByThread =
          SimulatedGroup.perThread(sorted(active.getOrDefault(process, List.of())), spec.threads());
      List<List<TaskId>> standbyByThread =
          SimulatedGroup.perThread(
              sorted(standby.getOrDefault(process, List.of())), spec.threads());
      for (int t = 0; t < spec.threads(); t++) {
        Map<TaskId, Set<TopicPartition>> standbys = new TreeMap<>();
        standbyByThread.get(t).forEach(id -> standbys.put(id, group.partitions(id)));
        List<TaskId> actives = activeByThread.get(t);
        int withHosts =
            StreamsAssignmentEncoder.encodedSize(
                StreamsAssignmentEncoder.LATEST, actives, standbys, activeByHost, standbyByHost);
        int withoutHosts =
            StreamsAssignmentEncoder.encodedSize(
                StreamsAssignmentEncoder.LATEST, actives, standbys, Map.of(), Map.of());
        pre24 +=
            StreamsAssignmentEncoder.encodedSize(
                StreamsAssignmentEncoder.PRE_2_4, actives, standbys, activeByHost, standbyByHost);
        stock += withHosts;
        backbone += withoutHosts;
        stockLargest = Math.max(stockLargest, withHosts);
        backboneLargest = Math.max(backboneLargest, withoutHosts);
        consumers++;
      }
    }
    RoutingTable table =
        RoutingTable.fromAssignment("bench", System.currentTimeMillis(), group, assignment)
            .withGeneration(1_000_000);
    int tableBytes = RoutingCodec.encode(table).length;
    return new Sizes(
        stock,
        pre24,
        stockLargest,
        backbone,
        tableBytes,
        backboneLargest,
        consumers,
        group.allTasks().size());
  }

  private static List<TaskId> sorted(List<TaskId> tasks) {
    List<TaskId> copy = new ArrayList<>(tasks);
    copy.sort(null);
    return copy;
  }

  static BenchReport report(Spec spec, Sizes sizes, List<RealRebalance.Result> real) {
    BenchReport report =
        new BenchReport(
            "assignment-size",
            "stock Kafka Streams "
                + AppInfoParser.getVersion()
                + " with application.server (AssignmentInfo v"
                + StreamsAssignmentEncoder.LATEST
                + ", StickyTaskAssignor), same assignment");
    report.row(
        row(
            "stock (application.server)",
            sizes.stockBytes(),
            sizes.stockLargest(),
            0,
            sizes.consumers()));
    report.row(
        row("stock, pre-2.4 encoding (v4)", sizes.stockPre24Bytes(), -1, 0, sizes.consumers()));
    report.row(
        row(
            "backbone (assignments + table once)",
            sizes.backboneBytes(),
            sizes.backboneLargest(),
            sizes.routingTableBytes(),
            sizes.consumers()));
    for (RealRebalance.Result r : real) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("mode", "real " + r.mode() + ", " + r.instances() + " instances");
      row.put("form_ms", r.formMillis());
      row.put("join_ms", r.joinMillis());
      row.put("leave_ms", r.leaveMillis());
      report.row(row);
    }
    report.summary("nodes", spec.nodes());
    report.summary("threads", spec.threads());
    report.summary("partitions", spec.partitions());
    report.summary("topics", spec.topics());
    report.summary("standbys", spec.standbys());
    report.summary("tasks", sizes.tasks());
    report.summary("stock_largest_member_bytes", sizes.stockLargest());
    report.summary("backbone_largest_member_bytes", sizes.backboneLargest());
    report.summary("routing_table_bytes", sizes.routingTableBytes());
    report.summary("stock_pre24_bytes", sizes.stockPre24Bytes());
    for (RealRebalance.Result r : real) {
      report.summary("real_" + r.mode() + "_instances", r.instances());
      report.summary("real_" + r.mode() + "_form_ms", r.formMillis());
      report.summary("real_" + r.mode() + "_join_ms", r.joinMillis());
      report.summary("real_" + r.mode() + "_leave_ms", r.leaveMillis());
    }
    report.summary("stock_bytes", sizes.stockBytes());
    report.summary("backbone_bytes", sizes.backboneBytes());
    report.summary("ratio", Math.round(sizes.ratio() * 10) / 10.0);
    return report;
  }

  private static Map<String, Object> row(
      String mode, long total, long largest, long table, int consumers) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("mode", mode);
    row.put("total_bytes", total);
    row.put("total_mb", total / 1_000_000.0);
    row.put("largest_member_bytes", largest < 0 ? null : largest);
    row.put("routing_table_bytes", table);
    row.put("consumers", consumers);
    return row;
  }
}
