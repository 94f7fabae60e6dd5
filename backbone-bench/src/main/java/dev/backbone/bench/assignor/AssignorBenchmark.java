package dev.backbone.bench.assignor;

import dev.backbone.assignment.internals.ClientSpec;
import dev.backbone.assignment.internals.Placement;
import dev.backbone.assignment.internals.PlacementInput;
import dev.backbone.assignment.internals.RackAwarePlacer;
import dev.backbone.assignment.internals.TaskSpec;
import dev.backbone.bench.BenchReport;
import dev.backbone.bench.assignor.stock.StockAssignment;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.utils.internals.AppInfoParser;

/**
 * {@code backbone bench assignor}: Backbone's rack-aware placement next to stock Kafka Streams'
 * high-availability assignor with rack tags, on one generated cluster: compute time, rack
 * violations, balance spread, and how much moves when one node leaves.
 */
public final class AssignorBenchmark {
  private static final long ACCEPTABLE_LAG = 10_000;
  private static final int MAX_WARMUPS = 2;
  private static final int TIMED_RUNS = 3;

  private AssignorBenchmark() {}

  /**
   * The cluster to assign.
   *
   * @param clients Kafka Streams clients
   * @param threads stream threads per client
   * @param tasks stateful tasks
   * @param standbys standbys per task
   * @param racks racks, clients spread round robin
   */
  public record Spec(int clients, int threads, int tasks, int standbys, int racks) {
    /** Checks the arguments. */
    public Spec {
      if (clients < 1 || threads < 1 || tasks < 1 || standbys < 0 || racks < 1) {
        throw new IllegalArgumentException(
            "clients, threads, tasks and racks must be >= 1 and standbys >= 0, got " + this);
      }
    }
  }

  /** One assignor's figures. */
  record Figures(
      long millis,
      int rackViolations,
      double activeSpread,
      double totalSpread,
      int movedActives,
      int movedReplicas) {}

  /** Runs the benchmark and prints the table, then the JSON line last. */
  public static void run(Spec spec, PrintStream out) {
    PlacementInput fresh = cluster(spec);
    Figures backbone = backbone(fresh);
    Figures stock = stock(fresh);
    BenchReport report =
        new BenchReport(
            "assignor",
            "stock Kafka Streams "
                + AppInfoParser.getVersion()
                + " HighAvailabilityTaskAssignor with"
                + " rack.aware.assignment.tags=rack");
    report.row(row("backbone rack-aware", backbone));
    report.row(row("stock high-availability + rack tags", stock));
    report
        .summary("clients", spec.clients())
        .summary("threads", spec.threads())
        .summary("tasks", spec.tasks())
        .summary("standbys", spec.standbys())
        .summary("racks", spec.racks())
        .summary("millis", backbone.millis())
        .summary("rack_violations", backbone.rackViolations())
        .summary("stock_millis", stock.millis())
        .summary("stock_rack_violations", stock.rackViolations());
    report.print(out);
  }

  private static Map<String, Object> row(String name, Figures f) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("assignor", name);
    row.put("millis", f.millis());
    row.put("rack_violations", f.rackViolations());
    row.put("active_spread_per_thread", f.activeSpread());
    row.put("total_spread_per_thread", f.totalSpread());
    row.put("moved_actives_one_node_left", f.movedActives());
    row.put("moved_replicas_one_node_left", f.movedReplicas());
    return row;
  }

  static PlacementInput cluster(Spec spec) {
    List<ClientSpec> clients = new ArrayList<>();
    for (int c = 0; c < spec.clients(); c++) {
      clients.add(
          new ClientSpec(
              "client-" + c,
              "rack-" + (c % spec.racks()),
              spec.threads(),
              Set.of(),
              Set.of(),
              Map.of()));
    }
    List<TaskSpec> tasks = new ArrayList<>();
    for (int t = 0; t < spec.tasks(); t++) {
      tasks.add(new TaskSpec("0_" + t, 0, true));
    }
    return new PlacementInput(clients, tasks, spec.standbys(), ACCEPTABLE_LAG, MAX_WARMUPS);
  }

  private static Figures backbone(PlacementInput fresh) {
    Placement first = RackAwarePlacer.place(fresh);
    long best = Long.MAX_VALUE;
    for (int i = 0; i < TIMED_RUNS; i++) {
      long start = System.nanoTime();
      first = RackAwarePlacer.place(fresh);
      best = Math.min(best, System.nanoTime() - start);
    }
    PlacementInput oneLeft = oneNodeLeft(fresh, first.active(), first.standbys());
    Placement after = RackAwarePlacer.place(oneLeft);
    return figures(fresh, first.active(), first.standbys(), best, after.active(), after.standbys());
  }

  private static Figures stock(PlacementInput fresh) {
    StockAssignment.Outcome first = StockAssignment.highAvailabilityWithRackTags(fresh);
    long best = first.nanos();
    for (int i = 1; i < TIMED_RUNS; i++) {
      best = Math.min(best, StockAssignment.highAvailabilityWithRackTags(fresh).nanos());
    }
    PlacementInput oneLeft = oneNodeLeft(fresh, first.active(), first.standbys());
    StockAssignment.Outcome after = StockAssignment.highAvailabilityWithRackTags(oneLeft);
    return figures(fresh, first.active(), first.standbys(), best, after.active(), after.standbys());
  }

  /** The same cluster after a rebalance, with every copy caught up, minus its last client. */
  static PlacementInput oneNodeLeft(PlacementInput input, int[] active, int[][] standbys) {
    int n = input.clients().size();
    List<Set<Integer>> act = new ArrayList<>();
    List<Set<Integer>> stb = new ArrayList<>();
    List<Map<Integer, Long>> lags = new ArrayList<>();
    for (int c = 0; c < n; c++) {
      act.add(new HashSet<>());
      stb.add(new HashSet<>());
      lags.add(new HashMap<>());
    }
    for (int t = 0; t < active.length; t++) {
      act.get(active[t]).add(t);
      lags.get(active[t]).put(t, -2L);
      for (int s : standbys[t]) {
        stb.get(s).add(t);
        lags.get(s).put(t, 0L);
      }
    }
    List<ClientSpec> clients = new ArrayList<>();
    for (int c = 0; c < n - 1; c++) {
      ClientSpec spec = input.clients().get(c);
      clients.add(
          new ClientSpec(
              spec.name(), spec.rack(), spec.threads(), act.get(c), stb.get(c), lags.get(c)));
    }
    return new PlacementInput(
        clients,
        input.tasks(),
        input.standbys(),
        input.acceptableRecoveryLag(),
        input.maxWarmups());
  }

  private static Figures figures(
      PlacementInput input,
      int[] active,
      int[][] standbys,
      long nanos,
      int[] activeAfter,
      int[][] standbysAfter) {
    int n = input.clients().size();
    int[] actives = new int[n];
    int[] total = new int[n];
    int violations = 0;
    for (int t = 0; t < active.length; t++) {
      actives[active[t]]++;
      total[active[t]]++;
      Set<String> racks = new HashSet<>();
      racks.add(input.clients().get(active[t]).rack());
      boolean repeated = false;
      for (int s : standbys[t]) {
        total[s]++;
        repeated |= !racks.add(input.clients().get(s).rack());
      }
      violations += repeated ? 1 : 0;
    }
    int movedActives = 0;
    int movedReplicas = 0;
    for (int t = 0; t < active.length; t++) {
      if (activeAfter[t] != active[t]) {
        movedActives++;
      }
      Set<Integer> before = new HashSet<>();
      before.add(active[t]);
      Arrays.stream(standbys[t]).forEach(before::add);
      Set<Integer> after = new HashSet<>();
      after.add(activeAfter[t]);
      Arrays.stream(standbysAfter[t]).forEach(after::add);
      after.removeAll(before);
      movedReplicas += after.size();
    }
    return new Figures(
        Math.round(nanos / 1e6),
        violations,
        spread(actives, input),
        spread(total, input),
        movedActives,
        movedReplicas);
  }

  private static double spread(int[] load, PlacementInput input) {
    double max = Double.NEGATIVE_INFINITY;
    double min = Double.POSITIVE_INFINITY;
    for (int c = 0; c < load.length; c++) {
      double perThread = (double) load[c] / input.clients().get(c).threads();
      max = Math.max(max, perThread);
      min = Math.min(min, perThread);
    }
    return max - min;
  }
}
