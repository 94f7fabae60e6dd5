package dev.backbone.store.internals;

import java.util.Map;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;

/**
 * Whether a store's position satisfies a query's {@link PositionBound}: the rule of Kafka Streams'
 * own bounds ({@code StoreQueryUtils#isPermitted}). Public for the HTTP layer's {@code
 * minPosition}, which checks it on an answer's position (Kafka Streams drops the bound of a {@code
 * requireActive()} request).
 */
public final class PositionBounds {
  private PositionBounds() {}

  /**
   * True if the bound is unbounded, or if for every topic of the bound that names this store's
   * partition the store has seen at least that offset.
   */
  static boolean permits(Position seen, PositionBound bound, Integer partition) {
    return bound == null || bound.isUnbounded() || permits(seen, bound.position(), partition);
  }

  /**
   * True if for every topic of {@code wanted} that names this partition, {@code seen} holds at
   * least that offset; a null {@code seen} holds nothing.
   */
  public static boolean permits(Position seen, Position wanted, Integer partition) {
    for (String topic : wanted.getTopics()) {
      Map<Integer, Long> wantedOffsets = wanted.getPartitionPositions(topic);
      if (partition == null || !wantedOffsets.containsKey(partition)) {
        continue;
      }
      Long have = seen == null ? null : seen.getPartitionPositions(topic).get(partition);
      if (have == null || have < wantedOffsets.get(partition)) {
        return false;
      }
    }
    return true;
  }
}
