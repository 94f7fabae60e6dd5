package dev.backbone.assignment.internals;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;

/**
 * The assignor's rules over 10,000 random clusters (see {@link RandomCluster}). Each try is one
 * seed; a failure names it in the message (and jqwik prints it), and {@code
 * RandomCluster.generate(seed)} rebuilds the cluster.
 */
class RackAwarePlacerPropertiesTest {

  @Property(tries = 10_000, shrinking = ShrinkingMode.OFF)
  void everyRuleHoldsOnRandomClusters(@ForAll long seed) {
    RandomCluster.Generated generated = RandomCluster.generate(seed);
    PlacementInput input = generated.input();
    Placement placement = RackAwarePlacer.place(input);
    String where = "seed " + seed + " (RandomCluster.generate(" + seed + "L))";

    everyTaskHasOneActiveAndItsStandbys(input, placement, where);
    noRackViolationWhenRacksSuffice(input, placement, where);
    activesAreBalancedUnlessAFollowupIsDue(input, placement, where);
    activesMoveOnlyToCaughtUpCopies(generated, placement, where);
    nothingMovesWhenNothingChanged(input, placement, where);
  }

  private static void everyTaskHasOneActiveAndItsStandbys(
      PlacementInput input, Placement placement, String where) {
    int clients = input.clients().size();
    for (int task = 0; task < input.tasks().size(); task++) {
      int active = placement.active()[task];
      assertThat(active).as("%s: active of task %d", where, task).isBetween(0, clients - 1);
      int[] standbys = placement.standbys()[task];
      int expected =
          input.tasks().get(task).stateful() ? Math.min(input.standbys(), clients - 1) : 0;
      assertThat(standbys).as("%s: standbys of task %d", where, task).hasSize(expected);
      Set<Integer> holders = new HashSet<>();
      holders.add(active);
      for (int s : standbys) {
        assertThat(holders.add(s)).as("%s: task %d held twice by %d", where, task, s).isTrue();
      }
    }
    assertThat(placement.warmups().size())
        .as("%s: warm-ups", where)
        .isLessThanOrEqualTo(input.maxWarmups());
    for (Placement.Warmup w : placement.warmups()) {
      assertThat(placement.active()[w.task()])
          .as("%s: warm-up on the active", where)
          .isNotEqualTo(w.client());
      assertThat(placement.standbys()[w.task()])
          .as("%s: warm-up on a standby", where)
          .doesNotContain(w.client());
    }
    if (!placement.warmups().isEmpty()) {
      assertThat(placement.followupRebalance()).as("%s: warm-ups need a follow-up", where).isTrue();
    }
  }

  private static void noRackViolationWhenRacksSuffice(
      PlacementInput input, Placement placement, String where) {
    int violating = 0;
    for (int task = 0; task < input.tasks().size(); task++) {
      Set<String> racks = new HashSet<>();
      racks.add(rackOf(input, placement.active()[task]));
      boolean repeated = false;
      for (int s : placement.standbys()[task]) {
        repeated |= !racks.add(rackOf(input, s));
      }
      if (repeated) {
        violating++;
      }
    }
    assertThat(placement.violations()).as("%s: reported violations", where).hasSize(violating);
    if (placement.racks() >= 1 + input.standbys()) {
      assertThat(violating).as("%s: tasks with two replicas on one rack", where).isZero();
    }
  }

  private static String rackOf(PlacementInput input, int client) {
    String rack = input.clients().get(client).rack();
    return rack == null ? "none:" + client : rack;
  }

  private static void activesAreBalancedUnlessAFollowupIsDue(
      PlacementInput input, Placement placement, String where) {
    if (placement.followupRebalance()) {
      return;
    }
    int[] load = new int[input.clients().size()];
    for (int a : placement.active()) {
      load[a]++;
    }
    long threads = input.clients().stream().mapToLong(ClientSpec::threads).sum();
    long tasks = input.tasks().size();
    for (int c = 0; c < load.length; c++) {
      long share = tasks * input.clients().get(c).threads();
      long lower = share / threads;
      long upper = lower + (share % threads == 0 ? 0 : 1);
      assertThat((long) load[c])
          .as("%s: actives of client %d (%d threads)", where, c, input.clients().get(c).threads())
          .isBetween(lower, upper);
    }
  }

  private static void activesMoveOnlyToCaughtUpCopies(
      RandomCluster.Generated generated, Placement placement, String where) {
    PlacementInput input = generated.input();
    for (int task = 0; task < input.tasks().size(); task++) {
      int previous = generated.previousActive()[task];
      int now = placement.active()[task];
      if (!input.tasks().get(task).stateful() || previous < 0 || previous == now) {
        continue;
      }
      boolean anyCaughtUp = false;
      for (ClientSpec c : input.clients()) {
        anyCaughtUp |= caughtUp(c, task, input);
      }
      if (anyCaughtUp) {
        assertThat(caughtUp(input.clients().get(now), task, input))
            .as(
                "%s: task %d moved from %d to %d, which is not caught up",
                where, task, previous, now)
            .isTrue();
      }
    }
  }

  private static boolean caughtUp(ClientSpec client, int task, PlacementInput input) {
    Long lag = client.lags().get(task);
    return lag != null && lag <= input.acceptableRecoveryLag();
  }

  private static void nothingMovesWhenNothingChanged(
      PlacementInput input, Placement placement, String where) {
    if (placement.followupRebalance()) {
      return;
    }
    Placement again = RackAwarePlacer.place(RandomCluster.unchanged(input, placement));
    assertThat(again.active())
        .as("%s: actives after an unchanged rebalance", where)
        .isEqualTo(placement.active());
    for (int task = 0; task < input.tasks().size(); task++) {
      assertThat(sortedCopy(again.standbys()[task]))
          .as("%s: standbys of task %d after an unchanged rebalance", where, task)
          .isEqualTo(sortedCopy(placement.standbys()[task]));
    }
    assertThat(again.warmups()).as("%s: warm-ups", where).isEqualTo(List.of());
  }

  private static int[] sortedCopy(int[] values) {
    int[] copy = values.clone();
    Arrays.sort(copy);
    return copy;
  }
}
