package dev.backbone.assignment.internals;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Hand-made clusters for the cases the properties cover only among thousands of others: where a
 * warm-up may go (rule 1) and where an active goes when no copy is caught up (rule 5). The lag
 * rules follow stock Kafka Streams' {@code TaskMovement.assignActiveTaskMovements}: a caught-up
 * client if any, else the most caught-up one.
 */
class RackAwarePlacerTest {
  private static final long ACCEPTABLE_LAG = 10_000;
  private static final long RUNNING = -2;

  @Test
  void putsAWarmUpOnARackWithoutAReplicaOfItsTask() {
    // Four caught-up actives on client 0 (rack a, 1 thread). Balance wants most of them on client
    // 1, which has 4 threads but is on rack a too: three racks suffice for active + standby +
    // warm-up, so a warm-up there would break rule 1. Without standbys the warm-ups show as such;
    // with one, a warm-up on a free rack is the task's standby.
    for (int standbys = 0; standbys <= 1; standbys++) {
      Cluster cluster = new Cluster();
      int owner = cluster.client("rack-a", 1);
      cluster.client("rack-a", 4);
      cluster.client("rack-b", 1);
      cluster.client("rack-c", 1);
      for (int task = 0; task < 4; task++) {
        cluster.statefulTask();
        cluster.previousActive(owner, task, RUNNING);
      }

      Placement placement = RackAwarePlacer.place(cluster.input(standbys, 2));

      if (standbys == 0) {
        assertThat(placement.warmups()).as("warm-ups").hasSize(2);
      }
      for (Placement.Warmup w : placement.warmups()) {
        assertThat(cluster.racksOf(placement, w.task()))
            .as("%d standbys: racks of task %d's replicas", standbys, w.task())
            .doesNotContain(cluster.rack(w.client()));
      }
      for (int task = 0; task < 4; task++) {
        assertThat(placement.active()[task]).as("active of task %d", task).isEqualTo(owner);
      }
      assertThat(placement.followupRebalance()).isTrue();
      assertThat(placement.violations()).isEmpty();
    }
  }

  @Test
  void skipsAWarmUpThatNoRackCanHoldWithoutMovingTheActive() {
    // As above, but the clients on racks b and c are full (a stateless active each): the only
    // client with room shares the owner's rack. The warm-up is skipped, not put on rack a, and the
    // actives stay on their caught-up owner.
    Cluster cluster = new Cluster();
    int owner = cluster.client("rack-a", 1);
    cluster.client("rack-a", 6);
    int b = cluster.client("rack-b", 1);
    int c = cluster.client("rack-c", 1);
    for (int task = 0; task < 4; task++) {
      cluster.statefulTask();
      cluster.previousActive(owner, task, RUNNING);
    }
    cluster.previousActive(b, cluster.statelessTask(), null);
    cluster.previousActive(c, cluster.statelessTask(), null);

    Placement placement = RackAwarePlacer.place(cluster.input(1, 2));

    for (Placement.Warmup w : placement.warmups()) {
      assertThat(cluster.racksOf(placement, w.task()))
          .as("racks of task %d's replicas", w.task())
          .doesNotContain(cluster.rack(w.client()));
    }
    for (int task = 0; task < 4; task++) {
      assertThat(placement.active()[task]).as("active of task %d", task).isEqualTo(owner);
    }
    assertThat(placement.violations()).isEmpty();
  }

  @Test
  void letsAWarmUpShareARackOnlyWhenTheRacksCannotHoldItToo() {
    // Two racks, one standby: active and standby take both racks, so a warm-up necessarily shares
    // one. It is still placed (it is what lets the active move), and it is not a violation.
    Cluster cluster = new Cluster();
    int owner = cluster.client("rack-a", 1);
    int big = cluster.client("rack-a", 4);
    int standby = cluster.client("rack-b", 1);
    for (int task = 0; task < 4; task++) {
      cluster.statefulTask();
      cluster.previousActive(owner, task, RUNNING);
      cluster.previousStandby(standby, task, 50_000L);
    }

    Placement placement = RackAwarePlacer.place(cluster.input(1, 2));

    assertThat(placement.warmups()).extracting(Placement.Warmup::client).contains(big);
    assertThat(placement.violations()).isEmpty();
  }

  @Test
  void failsOverToTheLeastLaggingCopyWhenNoneIsCaughtUp() {
    // Both standbys lag beyond the acceptable lag. Stock moves the active to the most caught-up
    // client (TaskMovement.tryToMoveActiveToMostCaughtUpClient), not the least loaded.
    assertThat(activeAfterFailover(50_000L, 20_000L)).isEqualTo(1);
  }

  @Test
  void failsOverToACaughtUpCopyEvenOnTheBusiestClient() {
    assertThat(activeAfterFailover(30_000L, 9_000L)).isEqualTo(1);
  }

  /**
   * The owner of a stateful task left; its standbys were on client 0 and client 1 (rack a and b)
   * with the given lags, and client 1 is the busiest (two stateless actives). Client 2 (rack c) has
   * no copy. Returns the client the task's active goes to.
   */
  private static int activeAfterFailover(long lagOnClient0, long lagOnClient1) {
    Cluster cluster = new Cluster();
    int idle = cluster.client("rack-a", 1);
    int busy = cluster.client("rack-b", 1);
    cluster.client("rack-c", 1);
    int task = cluster.statefulTask();
    cluster.previousStandby(idle, task, lagOnClient0);
    cluster.previousStandby(busy, task, lagOnClient1);
    cluster.previousActive(busy, cluster.statelessTask(), null);
    cluster.previousActive(busy, cluster.statelessTask(), null);

    Placement placement = RackAwarePlacer.place(cluster.input(1, 2));

    assertThat(placement.violations()).isEmpty();
    return placement.active()[task];
  }

  @Test
  void takesTheActiveFromARestoringOwnerWhenAnotherCopyIsFurtherAheadOrCaughtUp() {
    // The owner (client 0) is still restoring (lag 30,000); client 1's standby is further ahead:
    // not caught up either (15,000), or caught up (50). Stock moves the active to the more
    // caught-up
    // client (TaskMovement.taskIsNotCaughtUpOnClientAndOtherMoreCaughtUpClientsExist).
    for (long standbyLag : new long[] {15_000L, 50L}) {
      Cluster cluster = new Cluster();
      int owner = cluster.client("rack-a", 1);
      int ahead = cluster.client("rack-b", 1);
      cluster.client("rack-c", 1);
      int task = cluster.statefulTask();
      cluster.previousActive(owner, task, 30_000L);
      cluster.previousStandby(ahead, task, standbyLag);

      Placement placement = RackAwarePlacer.place(cluster.input(1, 2));

      assertThat(placement.active()[task]).as("standby lag %d", standbyLag).isEqualTo(ahead);
    }
  }

  @Test
  void balanceMovesAnActiveOffTheLeastLaggingCopyOnlyThroughAWarmUp() {
    // Six tasks whose owner left; client 1 holds the least-lagging copy of each, none caught up.
    // Balance wants two on each client, but the other clients' copies are worse (or absent), so
    // the actives stay on client 1 and the clients balance wants get warm-ups, as many as allowed
    // (no standbys, so the warm-ups show as such).
    Cluster cluster = new Cluster();
    int worse = cluster.client("rack-a", 1);
    int best = cluster.client("rack-b", 1);
    cluster.client("rack-c", 1);
    for (int i = 0; i < 6; i++) {
      int task = cluster.statefulTask();
      cluster.previousStandby(best, task, 20_000L);
      cluster.previousStandby(worse, task, 50_000L);
    }

    Placement placement = RackAwarePlacer.place(cluster.input(0, 2));

    for (int task = 0; task < 6; task++) {
      assertThat(placement.active()[task]).as("active of task %d", task).isEqualTo(best);
    }
    assertThat(placement.warmups()).hasSize(2);
    assertThat(placement.followupRebalance()).isTrue();
  }

  /** A small cluster built by hand. */
  private static final class Cluster {
    private final List<String> racks = new ArrayList<>();
    private final List<Integer> threads = new ArrayList<>();
    private final List<Set<Integer>> actives = new ArrayList<>();
    private final List<Set<Integer>> standbys = new ArrayList<>();
    private final List<Map<Integer, Long>> lags = new ArrayList<>();
    private final List<TaskSpec> tasks = new ArrayList<>();

    int client(String rack, int threadCount) {
      racks.add(rack);
      threads.add(threadCount);
      actives.add(new HashSet<>());
      standbys.add(new HashSet<>());
      lags.add(new HashMap<>());
      return racks.size() - 1;
    }

    int statefulTask() {
      tasks.add(new TaskSpec("0_" + tasks.size(), 0, true));
      return tasks.size() - 1;
    }

    int statelessTask() {
      tasks.add(new TaskSpec("1_" + tasks.size(), 1, false));
      return tasks.size() - 1;
    }

    void previousActive(int client, int task, Long lag) {
      actives.get(client).add(task);
      if (lag != null) {
        lags.get(client).put(task, lag);
      }
    }

    void previousStandby(int client, int task, long lag) {
      standbys.get(client).add(task);
      lags.get(client).put(task, lag);
    }

    String rack(int client) {
      return racks.get(client);
    }

    List<String> racksOf(Placement placement, int task) {
      List<String> result = new ArrayList<>();
      result.add(rack(placement.active()[task]));
      for (int s : placement.standbys()[task]) {
        result.add(rack(s));
      }
      return result;
    }

    PlacementInput input(int standbyCount, int maxWarmups) {
      List<ClientSpec> clients = new ArrayList<>();
      for (int c = 0; c < racks.size(); c++) {
        clients.add(
            new ClientSpec(
                "client-" + c,
                racks.get(c),
                threads.get(c),
                actives.get(c),
                standbys.get(c),
                lags.get(c)));
      }
      return new PlacementInput(clients, tasks, standbyCount, ACCEPTABLE_LAG, maxWarmups);
    }
  }
}
