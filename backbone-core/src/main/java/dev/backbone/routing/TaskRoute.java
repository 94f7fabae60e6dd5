package dev.backbone.routing;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.streams.processor.TaskId;

/**
 * Where one task runs in one generation.
 *
 * @param task the task ({@code subtopology_partition})
 * @param active the process id of its active replica; empty when no member runs it
 * @param standbys the process ids of its standby replicas (warm-ups included), in table order
 */
public record TaskRoute(TaskId task, Optional<UUID> active, List<UUID> standbys) {
  /** Checks the arguments. */
  public TaskRoute {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(active, "active");
    standbys = List.copyOf(standbys);
    if (active.isPresent() && standbys.contains(active.get())) {
      throw new IllegalArgumentException(
          "task " + task + " has process " + active.get() + " as both active and standby");
    }
  }

  /** A task no member runs. */
  public static TaskRoute unassigned(TaskId task) {
    return new TaskRoute(task, Optional.empty(), List.of());
  }
}
