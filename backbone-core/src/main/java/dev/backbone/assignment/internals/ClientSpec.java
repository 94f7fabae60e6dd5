package dev.backbone.assignment.internals;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One Kafka Streams client (a node's stage) as the placement sees it.
 *
 * @param name a stable name, used in logs and as the last tie-breaker
 * @param rack the rack or availability zone; {@code null} when the client has none, in which case
 *     it counts as a rack of its own
 * @param threads stream threads, at least 1; the client's share of the load is proportional to it
 * @param previousActive task indexes the client owned as active before this rebalance
 * @param previousStandby task indexes the client held as standby (or warm-up) before
 * @param lags the offset lag of the client's local copy of a stateful task (task index to lag; a
 *     negative lag means "the running active, fully caught up"); a task missing here has no local
 *     copy
 */
public record ClientSpec(
    String name,
    String rack,
    int threads,
    Set<Integer> previousActive,
    Set<Integer> previousStandby,
    Map<Integer, Long> lags) {
  /** Checks the arguments. */
  public ClientSpec {
    Objects.requireNonNull(name, "name");
    if (threads < 1) {
      throw new IllegalArgumentException(
          "client " + name + " has " + threads + " threads; it needs at least 1");
    }
    previousActive = Set.copyOf(previousActive);
    previousStandby = Set.copyOf(previousStandby);
    lags = Map.copyOf(lags);
  }
}
