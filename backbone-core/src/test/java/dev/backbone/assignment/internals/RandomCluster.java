package dev.backbone.assignment.internals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Random clusters for the assignor's properties and the stock comparison: 1-1,200 clients with 1-8
 * threads on 1-6 racks of uneven sizes (sometimes a client without a rack), 1-10,000 tasks over a
 * few subtopologies, 0-3 standbys, and a random previous assignment with random lags, where a
 * previous owner may be still restoring or gone (the failover case, recorded in {@link
 * Generated#ownerLeft()}). Most clusters are small, a few are large. Everything follows from the
 * seed.
 */
public final class RandomCluster {
  /** The acceptable recovery lag every generated cluster uses. */
  public static final long ACCEPTABLE_LAG = 10_000;

  private RandomCluster() {}

  /**
   * A generated cluster.
   *
   * @param seed the seed it was generated from
   * @param input the placement input
   * @param previousActive each task's previous active client, {@code -1} when it had none or when
   *     that client has left (see {@code ownerLeft})
   * @param ownerLeft whether the task's previous active client is gone: the failover case, where
   *     the task's surviving copies (previous standbys with their lags) decide where the active
   *     goes
   */
  public record Generated(
      long seed, PlacementInput input, int[] previousActive, boolean[] ownerLeft) {}

  /** The cluster of a seed; {@code large} forces the biggest size class. */
  public static Generated generate(long seed) {
    Random random = new Random(seed);
    int sizeClass = random.nextInt(1000);
    int maxClients;
    int maxTasks;
    if (sizeClass < 3) {
      maxClients = 1200;
      maxTasks = 10_000;
    } else if (sizeClass < 60) {
      maxClients = 200;
      maxTasks = 2_000;
    } else {
      maxClients = 24;
      maxTasks = 120;
    }
    int clients = 1 + random.nextInt(maxClients);
    int tasks = 1 + random.nextInt(maxTasks);
    int racks = 1 + random.nextInt(6);
    int standbys = random.nextInt(4);
    boolean racklessAllowed = random.nextInt(20) == 0;
    int[] rackWeights = new int[racks];
    for (int g = 0; g < racks; g++) {
      rackWeights[g] = random.nextInt(3) == 0 ? 1 + random.nextInt(5) : 3;
    }
    int weightSum = 0;
    for (int w : rackWeights) {
      weightSum += w;
    }
    int[] rackOf = new int[clients];
    for (int c = 0; c < clients; c++) {
      if (c < racks) {
        rackOf[c] = c;
        continue;
      }
      int r = random.nextInt(weightSum);
      int g = 0;
      while (r >= rackWeights[g]) {
        r -= rackWeights[g++];
      }
      rackOf[c] = g;
    }
    int subtopologies = 1 + random.nextInt(3);
    List<TaskSpec> taskSpecs = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      int sub = i % subtopologies;
      taskSpecs.add(new TaskSpec(sub + "_" + (i / subtopologies), sub, random.nextInt(5) != 0));
    }

    int previousMode = random.nextInt(4);
    List<Set<Integer>> prevActive = new ArrayList<>();
    List<Set<Integer>> prevStandby = new ArrayList<>();
    List<Map<Integer, Long>> lags = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      prevActive.add(new HashSet<>());
      prevStandby.add(new HashSet<>());
      lags.add(new HashMap<>());
    }
    int[] previousActive = new int[tasks];
    java.util.Arrays.fill(previousActive, -1);
    boolean[] ownerLeft = new boolean[tasks];
    if (previousMode > 0) {
      // Previous owners may include clients that are gone now (indexes past the end).
      int previousClients = clients + random.nextInt(3) - 1;
      for (int i = 0; i < tasks; i++) {
        if (random.nextInt(10) == 0 || previousClients <= 0) {
          continue;
        }
        int owner = random.nextInt(Math.max(1, previousClients));
        ownerLeft[i] = owner >= clients;
        if (owner < clients) {
          previousActive[i] = owner;
          prevActive.get(owner).add(i);
          if (taskSpecs.get(i).stateful()) {
            lags.get(owner).put(i, random.nextInt(8) == 0 ? randomLag(random) : -2L);
          }
        }
        if (taskSpecs.get(i).stateful()) {
          for (int s = 0; s < standbys; s++) {
            int holder = random.nextInt(clients);
            if (holder != owner) {
              prevStandby.get(holder).add(i);
              lags.get(holder).put(i, randomLag(random));
            }
          }
        }
      }
    }
    List<ClientSpec> specs = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      String rack = racklessAllowed && random.nextInt(10) == 0 ? null : "rack-" + rackOf[c];
      specs.add(
          new ClientSpec(
              "client-" + c,
              rack,
              1 + random.nextInt(8),
              prevActive.get(c),
              prevStandby.get(c),
              lags.get(c)));
    }
    int maxWarmups = 1 + random.nextInt(4);
    return new Generated(
        seed,
        new PlacementInput(specs, taskSpecs, standbys, ACCEPTABLE_LAG, maxWarmups),
        previousActive,
        ownerLeft);
  }

  private static long randomLag(Random random) {
    return random.nextInt(3) == 0 ? random.nextInt(100) : random.nextInt(4 * (int) ACCEPTABLE_LAG);
  }

  /**
   * The input of the next rebalance when nothing changed: same clients and tasks, the placement as
   * the previous assignment, every copy fully caught up.
   */
  public static PlacementInput unchanged(PlacementInput input, Placement placement) {
    List<ClientSpec> clients = new ArrayList<>();
    for (int c = 0; c < input.clients().size(); c++) {
      clients.add(copyHolding(input.clients().get(c), c, placement, input));
    }
    return new PlacementInput(
        clients,
        input.tasks(),
        input.standbys(),
        input.acceptableRecoveryLag(),
        input.maxWarmups());
  }

  private static ClientSpec copyHolding(
      ClientSpec client, int c, Placement placement, PlacementInput input) {
    Set<Integer> active = new HashSet<>();
    Set<Integer> standby = new HashSet<>();
    Map<Integer, Long> lags = new HashMap<>();
    for (int task = 0; task < placement.active().length; task++) {
      boolean stateful = input.tasks().get(task).stateful();
      if (placement.active()[task] == c) {
        active.add(task);
        if (stateful) {
          lags.put(task, -2L);
        }
      }
      for (int s : placement.standbys()[task]) {
        if (s == c) {
          standby.add(task);
          lags.put(task, 0L);
        }
      }
    }
    for (Placement.Warmup w : placement.warmups()) {
      if (w.client() == c) {
        standby.add(w.task());
        lags.put(w.task(), 0L);
      }
    }
    return new ClientSpec(client.name(), client.rack(), client.threads(), active, standby, lags);
  }
}
