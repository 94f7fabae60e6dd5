package dev.backbone.server.internals;

import dev.backbone.routing.MemberState;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Where a key lives according to this node's routing table.
 *
 * @param task the task (store partition) that holds the key
 * @param generation the generation of the table that says so
 * @param active the node running the task's active replica, if any
 * @param standbys the nodes running its standby replicas
 * @param applicationId the application id of the stage whose table this is: a keyed state stage's
 *     generation, which the local read must match ({@code KeyReadRouter#place})
 */
record KeyOwner(
    TaskId task,
    long generation,
    Optional<Replica> active,
    List<Replica> standbys,
    String applicationId) {
  KeyOwner {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(active, "active");
    standbys = List.copyOf(standbys);
  }

  int partition() {
    return task.partition();
  }

  /**
   * One replica's node.
   *
   * @param nodeId the node id
   * @param endpoint its HTTP endpoint, if the node announced one
   * @param state its membership state
   */
  record Replica(String nodeId, Optional<HostInfo> endpoint, MemberState state) {
    /** Whether a read can be sent there. */
    boolean reachable() {
      return endpoint.isPresent() && state == MemberState.UP;
    }
  }
}
