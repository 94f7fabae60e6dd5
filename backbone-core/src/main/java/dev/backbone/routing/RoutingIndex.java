package dev.backbone.routing;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.streams.processor.TaskId;

/**
 * Lookups of one {@link RoutingTable} by hash instead of by scanning: a key read asks for its
 * task's partition count, route and members, and at 400 nodes with thousands of tasks a scan of the
 * table's lists per read would cost more than the read. Built once per table ({@link
 * RoutingCache#index()}), immutable.
 */
public final class RoutingIndex {
  private final RoutingTable table;
  private final Map<Integer, Integer> partitionCounts;
  private final Map<TaskId, TaskRoute> routes = new HashMap<>();
  private final Map<UUID, RoutedMember> members = new HashMap<>();

  private RoutingIndex(RoutingTable table) {
    this.table = table;
    this.partitionCounts = Map.copyOf(table.partitionCounts());
    table.tasks().forEach(r -> routes.put(r.task(), r));
    table.members().forEach(m -> members.put(m.processId(), m));
  }

  /** The index of a table. */
  public static RoutingIndex of(RoutingTable table) {
    return new RoutingIndex(table);
  }

  /** The table indexed. */
  public RoutingTable table() {
    return table;
  }

  /** As {@link RoutingTable#partitionCounts()}. */
  public Map<Integer, Integer> partitionCounts() {
    return partitionCounts;
  }

  /** As {@link RoutingTable#taskOf(int, byte[])}. */
  public Optional<TaskId> taskOf(int subtopology, byte[] serializedKey) {
    Integer count = partitionCounts.get(subtopology);
    if (count == null) {
      return Optional.empty();
    }
    return Optional.of(new TaskId(subtopology, KeyToTask.partition(serializedKey, count)));
  }

  /** As {@link RoutingTable#route(TaskId)}. */
  public Optional<TaskRoute> route(TaskId task) {
    return Optional.ofNullable(routes.get(task));
  }

  /** As {@link RoutingTable#member(UUID)}. */
  public Optional<RoutedMember> member(UUID processId) {
    return Optional.ofNullable(members.get(processId));
  }
}
