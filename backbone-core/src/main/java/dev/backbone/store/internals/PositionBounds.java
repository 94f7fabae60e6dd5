package dev.backbone.store.internals;

import java.util.Map;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;

/** Whether a store's position satisfies a query's {@link PositionBound}. */
final class PositionBounds {
  private PositionBounds() {}

  /**
   * True if the bound is unbounded, or if for every topic of the bound that names this store's
   * partition the store has seen at least that offset.
   */
  static boolean permits(Position seen, PositionBound bound, Integer partition) {
    if (bound == null || bound.isUnbounded()) {
      return true;
    }
    Position wanted = bound.position();
    for (String topic : wanted.getTopics()) {
      Map<Integer, Long> wantedOffsets = wanted.getPartitionPositions(topic);
      if (partition == null || !wantedOffsets.containsKey(partition)) {
        continue;
      }
      Long have = seen.getPartitionPositions(topic).get(partition);
      if (have == null || have < wantedOffsets.get(partition)) {
        return false;
      }
    }
    return true;
  }
}
