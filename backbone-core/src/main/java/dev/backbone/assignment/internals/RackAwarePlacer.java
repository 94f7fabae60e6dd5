package dev.backbone.assignment.internals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Places every task's active and standbys on clients: a pure function of a {@link PlacementInput}.
 *
 * <h2>What must always hold, and why</h2>
 *
 * The rules, in priority order:
 *
 * <ol>
 *   <li><b>Replicas of a task on distinct racks</b> — hard. Losing a rack must never lose every
 *       copy of a task's state. It can only fail when the clients span fewer racks than a task has
 *       replicas; then replicas are spread over as many racks as there are, and the task is
 *       reported as a {@link Placement.RackViolation}. Never silently. A warm-up counts as a
 *       replica whenever the racks suffice for it too (racks &gt;= active + standbys + 1): it goes
 *       on a rack of its own. A warm-up whose client shares a rack with a replica is skipped, never
 *       placed: balance tries the next client with room, and when there is none the active stays
 *       where it is (with a follow-up rebalance, as when the warm-up budget is spent). With fewer
 *       racks a warm-up is an extra copy that may share one and is not a violation: the active and
 *       standbys alone still meet the rule.
 *   <li><b>Every stateful task gets its standbys</b> as long as there is a client that does not
 *       hold the task yet. There is no hard capacity: a standby is cheap next to a lost replica.
 *   <li><b>Balance</b>: actives, and actives plus standbys, per client proportional to its threads
 *       (each client within the floor and ceiling of its exact share) where the rack rule allows;
 *       consecutive tasks of one subtopology go to different clients. docs/assignment.md states
 *       exactly when each bound is guaranteed.
 *   <li><b>Stickiness</b>: every previous active (on a copy rule 5 allows) and standby stays where
 *       it was unless balance needs it elsewhere, so an unchanged cluster moves nothing and a
 *       change moves close to the minimum.
 *   <li><b>Lag-aware placement</b>: a stateful active runs only on a <i>best copy</i>: one within
 *       the acceptable recovery lag when any client has one, otherwise one with the least lag, as
 *       stock Kafka Streams' {@code TaskMovement.assignActiveTaskMovements} decides (a caught-up
 *       client, else the most caught-up one). So a failover (the owner left) goes to a caught-up
 *       copy, or else to the least-lagging survivor, not to the least loaded client; and an owner
 *       that is still restoring while another copy is further ahead loses the task to it. Only a
 *       task no client has a known lag for goes where balance wants it. When balance wants an
 *       active on a client whose copy is not as good, the best copy keeps it, the new home gets a
 *       warm-up (at most {@code maxWarmups} of them) and a follow-up rebalance is requested. Rule 5
 *       comes last but is not outranked by 3 and 4: it says where an active may run now, balance
 *       and stickiness choose among those places, and a balance move to any other place waits for
 *       its warm-up.
 * </ol>
 *
 * <h2>How</h2>
 *
 * Two phases, actives then standbys, each in three steps: <i>keep</i> every previous placement that
 * is still valid (no capacity cap, so a balanced previous assignment is a fixed point; a previous
 * active only on a best copy); <i>fill</i> what is missing greedily onto the least loaded eligible
 * client (an active onto the least loaded best copy; ordered sets keyed by load per thread; for
 * standbys one ordered set per rack, so the rack rule costs O(racks) per replica); <i>rebalance</i>
 * by single moves from the client furthest above its share to a client below its share, which
 * strictly lowers the sum of squared deviations, so it terminates, and it stops as soon as every
 * client is within bounds — which is why a balanced input moves nothing. A standby that cannot move
 * straight to a client with room may move along a chain of two (bounded search). A move that would
 * make an active land on a client that is not a best copy becomes a warm-up instead, only onto a
 * client off the active's rack when the racks suffice for the warm-up (else the next client with
 * room is tried). The standbys then treat the warm-up's rack as taken. The rack rule is checked on
 * every standby and warm-up placement and move, never repaired afterwards. Cost: O(tasks x (racks +
 * log clients) + moves x clients), well under a second at 1,200 clients x 10,000 tasks.
 */
public final class RackAwarePlacer {
  /** Candidate checks all chain searches of one placement may make together. */
  private static final long CHAIN_SEARCH_BUDGET = 200_000;

  private RackAwarePlacer() {}

  /**
   * Places every task.
   *
   * @param input clients, tasks and settings
   * @return the placement, with its warm-ups and rack violations
   */
  public static Placement place(PlacementInput input) {
    return new Run(input).place();
  }

  /** One placement's working state; indexes are positions in the input lists. */
  private static final class Run {
    private final PlacementInput in;
    private final int n;
    private final int t;
    private final int k;
    private final int[] threads;
    private final long totalThreads;
    private final int[] rackOf;
    private final List<String> rackNames = new ArrayList<>();
    private final List<String> rackless = new ArrayList<>();
    private final List<Map<Integer, Long>> lags = new ArrayList<>();
    private final int[][] copyHolders;

    /** Per task: the smallest known lag of any copy, and whether some copy is caught up. */
    private final long[] leastLag;

    private final boolean[] caughtUpSomewhere;

    private final int[] planned;
    private final int[] active;
    private final boolean[] pinned;
    private final int[] warmupTarget;

    /** The rack a task's warm-up takes under rule 1 ({@code -1}: none, or too few racks). */
    private final int[] warmupRack;

    private final int[] activeLoad;
    private final IntList[] plannedOf;

    /** Dense subtopology index of each task, tasks per subtopology, planned actives per both. */
    private final int[] subOf;

    private final int[] subSize;
    private final int[][] subLoad;

    private final int[][] standby;
    private final int[] standbyCount;
    private final int[] totalLoad;
    private final IntList[] standbyOf;

    private int warmupsLeft;
    private long chainBudget = CHAIN_SEARCH_BUDGET;
    private boolean followup;

    Run(PlacementInput in) {
      this.in = in;
      this.n = in.clients().size();
      this.t = in.tasks().size();
      this.k = in.standbys();
      this.threads = new int[n];
      this.rackOf = new int[n];
      Map<String, Integer> rackIds = new HashMap<>();
      long sum = 0;
      List<IntList> holders = new ArrayList<>(t);
      for (int i = 0; i < t; i++) {
        holders.add(new IntList());
      }
      for (int c = 0; c < n; c++) {
        ClientSpec client = in.clients().get(c);
        threads[c] = client.threads();
        sum += client.threads();
        String rack = client.rack();
        if (rack == null || rack.isBlank()) {
          rackless.add(client.name());
          rackOf[c] = rackNames.size();
          rackNames.add("(no rack: " + client.name() + ")");
        } else {
          final int next = rackNames.size();
          rackOf[c] = rackIds.computeIfAbsent(rack, r -> next);
          if (rackOf[c] == next) {
            rackNames.add(rack);
          }
        }
        lags.add(client.lags());
        Set<Integer> copies = new LinkedHashSet<>(client.lags().keySet());
        copies.addAll(client.previousActive());
        copies.addAll(client.previousStandby());
        for (int task : sorted(copies)) {
          if (task >= 0 && task < t) {
            holders.get(task).add(c);
          }
        }
      }
      this.totalThreads = sum;
      this.copyHolders = new int[t][];
      this.leastLag = new long[t];
      this.caughtUpSomewhere = new boolean[t];
      for (int i = 0; i < t; i++) {
        copyHolders[i] = holders.get(i).toArray();
        leastLag[i] = Long.MAX_VALUE;
        for (int c : copyHolders[i]) {
          leastLag[i] = Math.min(leastLag[i], lagOf(c, i));
        }
        caughtUpSomewhere[i] = leastLag[i] <= in.acceptableRecoveryLag();
      }
      this.planned = new int[t];
      this.active = new int[t];
      this.pinned = new boolean[t];
      this.warmupTarget = new int[t];
      this.warmupRack = new int[t];
      Arrays.fill(planned, -1);
      Arrays.fill(active, -1);
      Arrays.fill(warmupTarget, -1);
      Arrays.fill(warmupRack, -1);
      this.activeLoad = new int[n];
      this.subOf = new int[t];
      Map<Integer, Integer> subIds = new HashMap<>();
      for (int i = 0; i < t; i++) {
        final int next = subIds.size();
        subOf[i] = subIds.computeIfAbsent(in.tasks().get(i).subtopology(), s -> next);
      }
      this.subSize = new int[subIds.size()];
      for (int i = 0; i < t; i++) {
        subSize[subOf[i]]++;
      }
      this.subLoad = new int[subIds.size()][n];
      this.totalLoad = new int[n];
      this.plannedOf = new IntList[n];
      this.standbyOf = new IntList[n];
      for (int c = 0; c < n; c++) {
        plannedOf[c] = new IntList();
        standbyOf[c] = new IntList();
      }
      this.standby = new int[t][];
      this.standbyCount = new int[t];
      this.warmupsLeft = in.maxWarmups();
    }

    Placement place() {
      if (n == 0) {
        int[] none = new int[t];
        Arrays.fill(none, -1);
        int[][] noStandbys = new int[t][0];
        return new Placement(none, noStandbys, List.of(), false, List.of(), 0, List.of());
      }
      placeActives();
      placeStandbys();
      return result();
    }

    // ---------------------------------------------------------------- actives

    private void placeActives() {
      for (int c = 0; c < n; c++) {
        for (int task : sorted(in.clients().get(c).previousActive())) {
          // A previous owner that is not a best copy (still restoring while another copy is
          // further ahead) loses the task, as in stock's TaskMovement.
          if (task >= 0 && task < t && planned[task] < 0 && bestCopy(c, task)) {
            assignPlanned(task, c);
          }
        }
      }
      TreeSet<Integer> byLoad = new TreeSet<>(loadOrder(activeLoad));
      for (int c = 0; c < n; c++) {
        byLoad.add(c);
      }
      for (int task : fillOrder()) {
        if (planned[task] >= 0) {
          continue;
        }
        int target = leastLoadedBestCopy(task);
        if (target < 0) {
          target = leastLoadedBelowSubtopologyShare(task, byLoad);
        }
        byLoad.remove(target);
        assignPlanned(task, target);
        byLoad.add(target);
      }
      rebalanceActives();
      for (int task = 0; task < t; task++) {
        if (!pinned[task]) {
          active[task] = planned[task];
        }
      }
    }

    private void assignPlanned(int task, int client) {
      planned[task] = client;
      active[task] = client;
      activeLoad[client]++;
      subLoad[subOf[task]][client]++;
      plannedOf[client].add(task);
    }

    /**
     * The least loaded client that still has room for the task's subtopology (below the ceiling of
     * its thread share of that subtopology's tasks); the least loaded of all if none has. Picking
     * by total load alone apportions like D'Hondt, which favours clients with many threads: a
     * 7-thread client among 1-thread ones can end two tasks of one subtopology above its share.
     */
    private int leastLoadedBelowSubtopologyShare(int task, TreeSet<Integer> byLoad) {
      int sub = subOf[task];
      for (int c : byLoad) {
        if (subLoad[sub][c] < upper(subSize[sub], c)) {
          return c;
        }
      }
      return byLoad.first();
    }

    /** Tasks in (subtopology, index) order, so a subtopology's tasks fill different clients. */
    private int[] fillOrder() {
      Integer[] order = new Integer[t];
      for (int i = 0; i < t; i++) {
        order[i] = i;
      }
      Arrays.sort(
          order,
          Comparator.<Integer>comparingInt(i -> in.tasks().get(i).subtopology())
              .thenComparingInt(i -> i));
      int[] result = new int[t];
      for (int i = 0; i < t; i++) {
        result[i] = order[i];
      }
      return result;
    }

    /**
     * The least loaded client holding a best copy of the task (see {@link #bestCopy}); {@code -1}
     * when no client holds a copy with a known lag, so balance alone decides.
     */
    private int leastLoadedBestCopy(int task) {
      boolean stateful = in.tasks().get(task).stateful();
      int best = -1;
      for (int c : copyHolders[task]) {
        if ((!stateful || lagOf(c, task) != Long.MAX_VALUE)
            && bestCopy(c, task)
            && (best < 0
                || (long) (activeLoad[c] + 1) * threads[best]
                    < (long) (activeLoad[best] + 1) * threads[c])) {
          best = c;
        }
      }
      return best;
    }

    /**
     * Whether the task's active may run on the client without waiting (rule 5), the way stock Kafka
     * Streams' {@code TaskMovement.assignActiveTaskMovements} chooses: a stateless task anywhere; a
     * stateful one on a caught-up copy when there is one, and otherwise on a least-lagging copy
     * ({@code tryToMoveActiveToMostCaughtUpClient}). When no client has a known lag for the task,
     * every client is as good as any.
     */
    private boolean bestCopy(int client, int task) {
      if (!in.tasks().get(task).stateful()) {
        return true;
      }
      return caughtUpSomewhere[task]
          ? caughtUp(client, task)
          : lagOf(client, task) <= leastLag[task];
    }

    private boolean caughtUp(int client, int task) {
      if (!in.tasks().get(task).stateful()) {
        return true;
      }
      return lagOf(client, task) <= in.acceptableRecoveryLag();
    }

    /** The lag of the client's copy of the task; {@code Long.MAX_VALUE} when it has none. */
    private long lagOf(int client, int task) {
      Long lag = lags.get(client).get(task);
      return lag == null ? Long.MAX_VALUE : lag;
    }

    /**
     * Whether a warm-up of the task on {@code y}, with the active staying on {@code x}, keeps rule
     * 1: on a rack of its own whenever the racks suffice for active, standbys and warm-up. The
     * standbys are placed later and avoid the warm-up's rack (see {@link #warmupRack}), so only the
     * active's rack is checked here.
     */
    private boolean warmupKeepsRacksApart(int task, int x, int y) {
      int replicas = 1 + Math.min(k, n - 1);
      return rackNames.size() < replicas + 1 || rackOf[x] != rackOf[y];
    }

    private void rebalanceActives() {
      long share = t;
      long maxMoves = 4L * t + n;
      for (long i = 0; i < maxMoves; i++) {
        int x = -1;
        int y = -1;
        for (int c = 0; c < n; c++) {
          if (activeLoad[c] > lower(share, c)
              && (x < 0 || deviation(activeLoad, share, c) > deviation(activeLoad, share, x))) {
            x = c;
          }
          if (activeLoad[c] < upper(share, c)
              && (y < 0 || deviation(activeLoad, share, c) < deviation(activeLoad, share, y))) {
            y = c;
          }
        }
        if (x < 0
            || y < 0
            || x == y
            || (activeLoad[x] <= upper(share, x) && activeLoad[y] >= lower(share, y))) {
          return;
        }
        if (!moveActive(x, y) && !moveActiveElsewhere(x, y, share)) {
          // Only stateful tasks are left to move, and no warm-up can be placed for them (budget
          // spent, or no client with room on a rack the warm-up may take): try again later.
          followup = true;
          return;
        }
      }
    }

    /**
     * {@code y} could take none of x's actives (each would need a warm-up y cannot take: none are
     * left, or y shares the active's rack): tries the other clients that have room, the furthest
     * below their share first. Room as in the rebalance loop: below the ceiling when x is above its
     * own, else below the floor, so every move still lowers the sum of squared deviations.
     */
    private boolean moveActiveElsewhere(int x, int y, long share) {
      boolean xOver = activeLoad[x] > upper(share, x);
      List<Integer> room = new ArrayList<>();
      for (int c = 0; c < n; c++) {
        if (c != x
            && c != y
            && activeLoad[c] < upper(share, c)
            && (xOver || activeLoad[c] < lower(share, c))) {
          room.add(c);
        }
      }
      room.sort(
          Comparator.<Integer>comparingDouble(c -> deviation(activeLoad, share, c))
              .thenComparingInt(c -> c));
      for (int c : room) {
        if (moveActive(x, c)) {
          return true;
        }
      }
      return false;
    }

    /** Moves one planned active from x to y; false if none can move. */
    private boolean moveActive(int x, int y) {
      IntList tasks = plannedOf[x];
      int chosen = -1;
      int rank = Integer.MAX_VALUE;
      int best = Integer.MAX_VALUE;
      for (int i = 0; i < tasks.size() && best > 0; i++) {
        int task = tasks.get(i);
        // x holds a best copy of every task it plans (keep, fill and moves only put them there).
        int r;
        if (!in.tasks().get(task).stateful() || caughtUp(y, task)) {
          r = 0;
        } else if (!caughtUpSomewhere[task] && bestCopy(y, task)) {
          r = 1;
        } else if (warmupsLeft > 0 && warmupKeepsRacksApart(task, x, y)) {
          r = 2;
        } else {
          continue;
        }
        // Among equally cheap moves, one that keeps the subtopology within y's share.
        int sub = subOf[task];
        int score = 2 * r + (subLoad[sub][y] < upper(subSize[sub], y) ? 0 : 1);
        if (score < best) {
          best = score;
          rank = r;
          chosen = task;
        }
      }
      if (chosen < 0) {
        return false;
      }
      tasks.remove(chosen);
      activeLoad[x]--;
      subLoad[subOf[chosen]][x]--;
      planned[chosen] = y;
      activeLoad[y]++;
      subLoad[subOf[chosen]][y]++;
      if (rank == 2) {
        // The owner (caught up, or the least lagging) keeps the active until y has caught up.
        warmupsLeft--;
        pinned[chosen] = true;
        warmupTarget[chosen] = y;
        active[chosen] = x;
        followup = true;
      } else {
        plannedOf[y].add(chosen);
      }
      return true;
    }

    // --------------------------------------------------------------- standbys

    private void placeStandbys() {
      for (int task = 0; task < t; task++) {
        totalLoad[active[task]]++;
        boolean stateful = in.tasks().get(task).stateful();
        standby[task] = new int[stateful ? Math.min(k, n - 1) : 0];
        if (warmupTarget[task] >= 0 && rackNames.size() >= 2 + standby[task].length) {
          warmupRack[task] = rackOf[warmupTarget[task]];
        }
      }
      // keep
      for (int task = 0; task < t; task++) {
        if (standby[task].length == 0) {
          continue;
        }
        if (warmupTarget[task] >= 0) {
          tryKeepStandby(task, warmupTarget[task]);
        }
        int[] holders = byLag(task);
        for (int c : holders) {
          tryKeepStandby(task, c);
        }
        keepOnSharedRacks(task, holders);
      }
      // fill
      List<TreeSet<Integer>> racks = rackSets();
      for (int task : fillOrder()) {
        while (standbyCount[task] < standby[task].length) {
          int target = bestDistinctRack(task, racks);
          if (target < 0) {
            target = bestSharedRack(task, racks);
          }
          if (target < 0) {
            break;
          }
          racks.get(rackOf[target]).remove(target);
          addStandby(task, target);
          racks.get(rackOf[target]).add(target);
        }
      }
      rebalanceStandbys(racks);
    }

    /** Keeps a previous copy as a standby if rule 1 allows; the warm-up's client may absorb it. */
    private void tryKeepStandby(int task, int c) {
      if (standbyCount[task] < standby[task].length
          && !holds(c, task)
          && !replicaOnRack(task, rackOf[c], -1)
          && (c == warmupTarget[task] || rackOf[c] != warmupRack[task])) {
        addStandby(task, c);
      }
    }

    /**
     * When every rack already holds a replica of the task, rule 1 cannot hold for it anyway: keep
     * previous copies on the racks with the fewest replicas, as the fill step would place them.
     */
    private void keepOnSharedRacks(int task, int[] holders) {
      while (standbyCount[task] < standby[task].length && allRacksUsed(task)) {
        int best = -1;
        int bestCount = Integer.MAX_VALUE;
        for (int c : holders) {
          int count = replicasOnRack(task, rackOf[c]);
          if (!holds(c, task) && count < bestCount) {
            best = c;
            bestCount = count;
          }
        }
        if (best < 0) {
          return;
        }
        addStandby(task, best);
      }
    }

    private boolean allRacksUsed(int task) {
      int used = 1;
      for (int i = 0; i < standbyCount[task]; i++) {
        int rack = rackOf[standby[task][i]];
        boolean seen = rackOf[active[task]] == rack;
        for (int j = 0; j < i && !seen; j++) {
          seen = rackOf[standby[task][j]] == rack;
        }
        used += seen ? 0 : 1;
      }
      return used >= rackNames.size();
    }

    /** Copy holders of a task, the least lagging first (no lag known: last). */
    private int[] byLag(int task) {
      int[] holders = copyHolders[task].clone();
      if (holders.length < 2) {
        return holders;
      }
      Integer[] boxed = Arrays.stream(holders).boxed().toArray(Integer[]::new);
      Arrays.sort(
          boxed,
          Comparator.<Integer>comparingLong(
                  c -> {
                    Long lag = lags.get(c).get(task);
                    return lag == null ? Long.MAX_VALUE : Math.max(lag, 0L);
                  })
              .thenComparingInt(c -> c));
      return Arrays.stream(boxed).mapToInt(Integer::intValue).toArray();
    }

    private void addStandby(int task, int c) {
      standby[task][standbyCount[task]++] = c;
      totalLoad[c]++;
      standbyOf[c].add(task);
    }

    private void removeStandby(int task, int c) {
      int[] s = standby[task];
      for (int i = 0; i < standbyCount[task]; i++) {
        if (s[i] == c) {
          s[i] = s[--standbyCount[task]];
          s[standbyCount[task]] = -1;
          break;
        }
      }
      totalLoad[c]--;
      standbyOf[c].remove(task);
    }

    private boolean holds(int c, int task) {
      if (active[task] == c) {
        return true;
      }
      for (int i = 0; i < standbyCount[task]; i++) {
        if (standby[task][i] == c) {
          return true;
        }
      }
      return false;
    }

    /**
     * Whether a replica of the task other than the one on {@code except}, or its warm-up, is on the
     * rack. The warm-up counts even when {@code except} is its client: a standby moving off that
     * client leaves the warm-up there.
     */
    private boolean rackUsed(int task, int rack, int except) {
      return rack == warmupRack[task] || replicaOnRack(task, rack, except);
    }

    /** Whether a replica of the task other than the one on {@code except} is on the rack. */
    private boolean replicaOnRack(int task, int rack, int except) {
      if (active[task] != except && rackOf[active[task]] == rack) {
        return true;
      }
      for (int i = 0; i < standbyCount[task]; i++) {
        int c = standby[task][i];
        if (c != except && rackOf[c] == rack) {
          return true;
        }
      }
      return false;
    }

    private int replicasOnRack(int task, int rack) {
      int count = rackOf[active[task]] == rack ? 1 : 0;
      for (int i = 0; i < standbyCount[task]; i++) {
        if (rackOf[standby[task][i]] == rack) {
          count++;
        }
      }
      return count;
    }

    private List<TreeSet<Integer>> rackSets() {
      List<TreeSet<Integer>> racks = new ArrayList<>();
      for (int g = 0; g < rackNames.size(); g++) {
        racks.add(new TreeSet<>(loadOrder(totalLoad)));
      }
      for (int c = 0; c < n; c++) {
        racks.get(rackOf[c]).add(c);
      }
      return racks;
    }

    private int bestDistinctRack(int task, List<TreeSet<Integer>> racks) {
      int best = -1;
      for (int g = 0; g < racks.size(); g++) {
        if (rackUsed(task, g, -1)) {
          continue;
        }
        int head = racks.get(g).first();
        if (best < 0 || lighter(totalLoad, head, best)) {
          best = head;
        }
      }
      return best;
    }

    /** Rule 1 cannot hold: the client on the rack with the fewest replicas of the task. */
    private int bestSharedRack(int task, List<TreeSet<Integer>> racks) {
      int best = -1;
      int bestCount = Integer.MAX_VALUE;
      for (int g = 0; g < racks.size(); g++) {
        int count = replicasOnRack(task, g);
        if (count > bestCount) {
          continue;
        }
        for (int c : racks.get(g)) {
          if (!holds(c, task)) {
            if (count < bestCount || lighter(totalLoad, c, best)) {
              best = c;
              bestCount = count;
            }
            break;
          }
        }
      }
      return best;
    }

    private void rebalanceStandbys(List<TreeSet<Integer>> racks) {
      long share = 0;
      for (int task = 0; task < t; task++) {
        share += 1 + standbyCount[task];
      }
      boolean[] stuck = new boolean[n];
      long maxMoves = 4L * share + n;
      for (long i = 0; i < maxMoves; i++) {
        int x = -1;
        for (int c = 0; c < n; c++) {
          if (!stuck[c]
              && standbyOf[c].size() > 0
              && totalLoad[c] > lower(share, c)
              && (x < 0 || deviation(totalLoad, share, c) > deviation(totalLoad, share, x))) {
            x = c;
          }
        }
        if (x < 0) {
          return;
        }
        boolean xOver = totalLoad[x] > upper(share, x);
        int bestTask = -1;
        int bestTarget = -1;
        IntList tasks = standbyOf[x];
        for (int i2 = 0; i2 < tasks.size(); i2++) {
          int task = tasks.get(i2);
          for (int g = 0; g < racks.size(); g++) {
            if (rackUsed(task, g, x)) {
              continue;
            }
            // The rack's lightest client by load per thread can sit at its ceiling (shares round
            // differently per client), so look on to the first one with room.
            for (int y : racks.get(g)) {
              if (y == x
                  || totalLoad[y] >= upper(share, y)
                  || !(xOver || totalLoad[y] < lower(share, y))
                  || holds(y, task)) {
                continue;
              }
              if (bestTarget < 0
                  || deviation(totalLoad, share, y) < deviation(totalLoad, share, bestTarget)) {
                bestTask = task;
                bestTarget = y;
              }
              break;
            }
          }
        }
        if (bestTask < 0) {
          if (!moveThroughOneClient(x, xOver, share, racks)) {
            stuck[x] = true;
          } else {
            Arrays.fill(stuck, false);
          }
          continue;
        }
        moveStandby(bestTask, x, bestTarget, racks);
        Arrays.fill(stuck, false);
      }
    }

    private void moveStandby(int task, int from, int to, List<TreeSet<Integer>> racks) {
      racks.get(rackOf[from]).remove(from);
      racks.get(rackOf[to]).remove(to);
      removeStandby(task, from);
      addStandby(task, to);
      racks.get(rackOf[from]).add(from);
      racks.get(rackOf[to]).add(to);
    }

    /**
     * No standby of {@code x} can go straight to a client with room (every such client holds the
     * task or shares a rack with one of its replicas). Tries a chain instead: one standby of x to a
     * client z, and one of z's standbys on to a client y with room, so z keeps its load. Room means
     * below the ceiling when x is above its own, else below the floor (as for a direct move). Small
     * clusters with few racks need this (three clients on three racks, one at its ceiling between
     * the other two; or a rack below its floor whose missing tasks' standbys sit on clients that
     * are exactly at theirs). All searches of a placement share one budget of candidate checks, so
     * a cluster the rack rule keeps unbalanced anyway costs at most that much extra.
     */
    private boolean moveThroughOneClient(
        int x, boolean xOver, long share, List<TreeSet<Integer>> racks) {
      IntList room = new IntList();
      for (int y = 0; y < n; y++) {
        if (y != x && totalLoad[y] < upper(share, y) && (xOver || totalLoad[y] < lower(share, y))) {
          room.add(y);
        }
      }
      if (room.size() == 0) {
        return false;
      }
      IntList tasks = standbyOf[x];
      for (int i = 0; i < tasks.size(); i++) {
        int a = tasks.get(i);
        for (int z = 0; z < n; z++) {
          if (z == x || holds(z, a) || rackUsed(a, rackOf[z], x)) {
            continue;
          }
          IntList moreTasks = standbyOf[z];
          for (int j = 0; j < moreTasks.size(); j++) {
            int b = moreTasks.get(j);
            for (int r = 0; r < room.size(); r++) {
              if (--chainBudget < 0) {
                return false;
              }
              int y = room.get(r);
              if (b != a && y != z && !holds(y, b) && !rackUsed(b, rackOf[y], z)) {
                moveStandby(b, z, y, racks);
                moveStandby(a, x, z, racks);
                return true;
              }
            }
          }
        }
      }
      return false;
    }

    // ----------------------------------------------------------------- result

    private Placement result() {
      List<Placement.Warmup> warmups = new ArrayList<>();
      for (int task = 0; task < t; task++) {
        int y = warmupTarget[task];
        if (y >= 0 && !holds(y, task)) {
          warmups.add(new Placement.Warmup(task, y));
        }
      }
      List<Placement.RackViolation> violations = new ArrayList<>();
      int[][] standbys = new int[t][];
      for (int task = 0; task < t; task++) {
        standbys[task] = Arrays.copyOf(standby[task], standbyCount[task]);
        if (standbyCount[task] == 0) {
          continue;
        }
        boolean repeated = false;
        for (int i = 0; i < standbyCount[task] && !repeated; i++) {
          repeated = replicasOnRack(task, rackOf[standby[task][i]]) > 1;
        }
        if (repeated) {
          List<String> names = new ArrayList<>();
          names.add(rackNames.get(rackOf[active[task]]));
          for (int c : standbys[task]) {
            names.add(rackNames.get(rackOf[c]));
          }
          violations.add(new Placement.RackViolation(task, List.copyOf(names)));
        }
      }
      return new Placement(
          active.clone(),
          standbys,
          List.copyOf(warmups),
          followup,
          List.copyOf(violations),
          rackNames.size(),
          List.copyOf(rackless));
    }

    // ---------------------------------------------------------------- balance

    /** Floor of the client's exact share of {@code total} by threads. */
    private long lower(long total, int c) {
      return total * threads[c] / totalThreads;
    }

    /** Ceiling of the client's exact share of {@code total} by threads. */
    private long upper(long total, int c) {
      long product = total * threads[c];
      return product / totalThreads + (product % totalThreads == 0 ? 0 : 1);
    }

    private double deviation(int[] load, long total, int c) {
      return load[c] - (double) total * threads[c] / totalThreads;
    }

    /** Orders clients by load per thread after one more task, then by index. */
    private Comparator<Integer> loadOrder(int[] load) {
      return (a, b) -> {
        int cmp =
            Long.compare((long) (load[a] + 1) * threads[b], (long) (load[b] + 1) * threads[a]);
        return cmp != 0 ? cmp : Integer.compare(a, b);
      };
    }

    private boolean lighter(int[] load, int a, int b) {
      return loadOrder(load).compare(a, b) < 0;
    }
  }

  private static int[] sorted(Set<Integer> values) {
    int[] result = values.stream().mapToInt(Integer::intValue).toArray();
    Arrays.sort(result);
    return result;
  }

  /** A growable list of ints; removal by value (lists are short: one client's tasks). */
  private static final class IntList {
    private int[] values = new int[4];
    private int size;

    void add(int value) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = value;
    }

    void remove(int value) {
      for (int i = 0; i < size; i++) {
        if (values[i] == value) {
          System.arraycopy(values, i + 1, values, i, size - i - 1);
          size--;
          return;
        }
      }
    }

    int get(int i) {
      return values[i];
    }

    int size() {
      return size;
    }

    int[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
