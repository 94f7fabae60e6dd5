package dev.backbone.bench.assignor.stock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.assignment.internals.Placement;
import dev.backbone.assignment.internals.PlacementInput;
import dev.backbone.assignment.internals.RackAwarePlacer;
import dev.backbone.assignment.internals.RandomCluster;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The property generator's clusters through stock Kafka Streams' high-availability assignor with
 * rack tags (with and without the balance_subtopology traffic optimizer) and through Backbone's
 * placement, side by side: how often each puts two replicas of a task on one rack although there
 * are enough racks. Prints the figures {@code docs/assignment.md} quotes.
 */
class StockComparisonTest {
  private static final int CLUSTERS = 400;
  private static final int OPTIMIZER_MAX_CLIENTS = 24;
  private static final int OPTIMIZER_MAX_TASKS = 120;

  @Test
  void backboneNeverSharesARackWhenRacksSufficeAndStockIsCounted() {
    int eligible = 0;
    long tasks = 0;
    Count tags = new Count();
    Count tagsOnSmall = new Count();
    Count balanceSubtopology = new Count();
    int optimizerRan = 0;
    long backboneTasks = 0;
    for (long seed = 1; seed <= CLUSTERS; seed++) {
      RandomCluster.Generated g = RandomCluster.generate(seed);
      PlacementInput input = g.input();
      if (input.clients().size() > 200 || input.standbys() == 0) {
        continue;
      }
      Placement backbone = RackAwarePlacer.place(input);
      if (backbone.racks() < 1 + input.standbys()) {
        continue;
      }
      eligible++;
      tasks += input.tasks().size();
      StockAssignment.Outcome plain = StockAssignment.highAvailabilityWithRackTags(input);
      tags.add(input, plain);
      if (input.clients().size() <= OPTIMIZER_MAX_CLIENTS
          && input.tasks().size() <= OPTIMIZER_MAX_TASKS) {
        // Stock's min-cost-flow optimizer takes minutes per cluster beyond this size.
        tagsOnSmall.add(input, plain);
        StockAssignment.Outcome optimized =
            StockAssignment.highAvailabilityWithRackTagsAndBalanceSubtopology(input);
        balanceSubtopology.add(input, optimized);
        optimizerRan += optimized.trafficOptimizerRan() ? 1 : 0;
      }
      backboneTasks += violations(input, backbone.active(), backbone.standbys());
      assertThat(backbone.violations()).as("seed %d", seed).isEmpty();
    }
    System.out.printf(
        "stock comparison over %d clusters with racks >= replicas (%d tasks): stock with rack tags"
            + " shares a rack in %d clusters (%d tasks), Backbone in 0 clusters (%d tasks). Of"
            + " them %d clusters (%d tasks) with <= %d clients and <= %d tasks: rack tags %d"
            + " clusters (%d tasks); rack tags + balance_subtopology (optimizer ran in %d) %d"
            + " clusters (%d tasks)%n",
        eligible,
        tasks,
        tags.clusters,
        tags.tasks,
        backboneTasks,
        tagsOnSmall.considered,
        tagsOnSmall.consideredTasks,
        OPTIMIZER_MAX_CLIENTS,
        OPTIMIZER_MAX_TASKS,
        tagsOnSmall.clusters,
        tagsOnSmall.tasks,
        optimizerRan,
        balanceSubtopology.clusters,
        balanceSubtopology.tasks);
    assertThat(backboneTasks).isZero();
    assertThat(eligible).isPositive();
    assertThat(optimizerRan).as("stock's traffic optimizer ran somewhere").isPositive();
  }

  /** Rack violations of one stock configuration: clusters with any, and tasks. */
  private static final class Count {
    private int considered;
    private long consideredTasks;
    private int clusters;
    private long tasks;

    void add(PlacementInput input, StockAssignment.Outcome outcome) {
      considered++;
      consideredTasks += input.tasks().size();
      int v = violations(input, outcome.active(), outcome.standbys());
      tasks += v;
      clusters += v > 0 ? 1 : 0;
    }
  }

  static int violations(PlacementInput input, int[] active, int[][] standbys) {
    int count = 0;
    for (int t = 0; t < active.length; t++) {
      Set<String> racks = new HashSet<>();
      racks.add(rack(input, active[t]));
      boolean repeated = false;
      for (int s : standbys[t]) {
        repeated |= !racks.add(rack(input, s));
      }
      count += repeated ? 1 : 0;
    }
    return count;
  }

  private static String rack(PlacementInput input, int client) {
    String rack = input.clients().get(client).rack();
    return rack == null ? "none-" + client : rack;
  }
}
