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
 * rack tags and through Backbone's placement, side by side: how often each puts two replicas of a
 * task on one rack although there are enough racks. Prints the figures {@code docs/assignment.md}
 * quotes.
 */
class StockComparisonTest {
  private static final int CLUSTERS = 400;

  @Test
  void backboneNeverSharesARackWhenRacksSufficeAndStockIsCounted() {
    int eligible = 0;
    int stockClusters = 0;
    long stockTasks = 0;
    long backboneTasks = 0;
    long tasks = 0;
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
      StockAssignment.Outcome stock = StockAssignment.highAvailabilityWithRackTags(input);
      int stockViolations = violations(input, stock.active(), stock.standbys());
      stockTasks += stockViolations;
      stockClusters += stockViolations > 0 ? 1 : 0;
      backboneTasks += violations(input, backbone.active(), backbone.standbys());
      assertThat(backbone.violations()).as("seed %d", seed).isEmpty();
    }
    System.out.printf(
        "stock comparison over %d clusters with racks >= replicas (%d tasks): stock shares a rack"
            + " in %d clusters (%d tasks), Backbone in 0 clusters (%d tasks)%n",
        eligible, tasks, stockClusters, stockTasks, backboneTasks);
    assertThat(backboneTasks).isZero();
    assertThat(eligible).isPositive();
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
