package dev.backbone.server.internals;

import dev.backbone.routing.Membership;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingCodec;
import dev.backbone.routing.RoutingTable;
import dev.backbone.routing.TaskRoute;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@code GET /v1/routing}: this node's copy of each routed stage's table, as a client needs it to
 * go straight to the owner of a key: generation, the process-id dictionary joined with membership
 * (node, rack, endpoint, state), the partition count per subtopology, and every task's active and
 * standby process ids. The key-to-task function is named, not shipped: murmur2 of the serialized
 * key, positive, modulo the subtopology's partition count.
 */
final class RoutingView {
  /** How a client maps a key to its task. */
  static final String KEY_TO_TASK =
      "toPositive(murmur2(serializedKey)) % partitions[subtopology] (Kafka's default partitioner)";

  private RoutingView() {}

  static RoutingAnswer of(LocalNode node) {
    List<StageRouting> stages = new ArrayList<>();
    for (String name : node.stageNames()) {
      node.routing(name).ifPresent(cache -> stages.add(stage(name, cache)));
    }
    return new RoutingAnswer(node.nodeId(), KEY_TO_TASK, stages);
  }

  private static StageRouting stage(String name, RoutingCache cache) {
    RoutingTable table = cache.table();
    List<MemberEntry> members = new ArrayList<>();
    for (Membership.ResolvedMember m : cache.membership().resolve(table)) {
      members.add(
          new MemberEntry(
              m.processId().toString(),
              m.nodeId(),
              m.rack(),
              m.endpoint().orElse(null),
              m.state().name()));
    }
    List<TaskEntry> tasks = new ArrayList<>();
    for (TaskRoute r : table.tasks()) {
      tasks.add(
          new TaskEntry(
              r.task().toString(),
              r.active().map(UUID::toString).orElse(null),
              r.standbys().stream().map(UUID::toString).toList()));
    }
    return new StageRouting(
        name,
        table.applicationId(),
        table.generation(),
        table.createdMs(),
        RoutingCodec.encode(table).length,
        cache.pinned().isPresent(),
        table.partitionCounts(),
        members,
        tasks);
  }

  /**
   * The answer.
   *
   * @param node this node
   * @param keyToTask how a key maps to its task
   * @param stages one table per routed stage
   */
  record RoutingAnswer(String node, String keyToTask, List<StageRouting> stages) {}

  /**
   * One routed stage's table.
   *
   * @param stage the stage
   * @param applicationId its application id
   * @param generation the table's generation (0: none received yet)
   * @param createdMs when the group leader computed it
   * @param encodedBytes its size on the routing topic
   * @param pinned whether this node's view is frozen on it
   * @param partitions partition count per subtopology
   * @param members the process-id dictionary with membership
   * @param tasks every task, by process id
   */
  record StageRouting(
      String stage,
      String applicationId,
      long generation,
      long createdMs,
      int encodedBytes,
      boolean pinned,
      Map<Integer, Integer> partitions,
      List<MemberEntry> members,
      List<TaskEntry> tasks) {}

  /**
   * One process of the group.
   *
   * @param processId its Kafka Streams process id
   * @param nodeId its node
   * @param rack its rack
   * @param endpoint its node's HTTP endpoint, or null
   * @param state its node's state
   */
  record MemberEntry(String processId, String nodeId, String rack, String endpoint, String state) {}

  /**
   * One task.
   *
   * @param task its id
   * @param active process id of its active replica, or null
   * @param standbys process ids of its standbys
   */
  record TaskEntry(String task, String active, List<String> standbys) {}
}
