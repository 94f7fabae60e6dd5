package dev.backbone.assignment.internals;

import java.util.List;

/**
 * The outcome of one placement. Clients and tasks are indexes into the {@link PlacementInput}.
 *
 * @param active the active client of each task ({@code -1} only when there are no clients)
 * @param standbys the standby clients of each task (empty for stateless tasks), without warm-ups
 * @param warmups extra copies being built on the client an active will move to, at most one per
 *     task; on a rack without a replica of the task whenever the racks suffice for it too
 * @param followupRebalance whether a follow-up rebalance must run (a warm-up or a deferred move)
 * @param violations tasks whose replicas share a rack
 * @param racks how many distinct racks the clients are on (a client without a rack counts as one)
 * @param racklessClients names of the clients without a rack
 */
public record Placement(
    int[] active,
    int[][] standbys,
    List<Warmup> warmups,
    boolean followupRebalance,
    List<RackViolation> violations,
    int racks,
    List<String> racklessClients) {

  /** A warm-up copy of {@code task} on {@code client}, which the active will move to. */
  public record Warmup(int task, int client) {}

  /**
   * A task whose replicas could not all be put on distinct racks.
   *
   * @param task the task index
   * @param racks the racks of its replicas, active first, with the repeats
   */
  public record RackViolation(int task, List<String> racks) {}
}
