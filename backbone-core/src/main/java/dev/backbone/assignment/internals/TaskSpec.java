package dev.backbone.assignment.internals;

import java.util.Objects;

/**
 * One task as the placement sees it.
 *
 * @param name the task id as text, e.g. {@code 0_3}, for logs
 * @param subtopology the task's subtopology; tasks of one subtopology are spread over clients
 * @param stateful whether the task has state; only stateful tasks get standbys and have lags
 */
public record TaskSpec(String name, int subtopology, boolean stateful) {
  /** Checks the arguments. */
  public TaskSpec {
    Objects.requireNonNull(name, "name");
  }
}
