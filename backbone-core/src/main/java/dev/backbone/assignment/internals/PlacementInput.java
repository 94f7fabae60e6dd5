package dev.backbone.assignment.internals;

import java.util.List;

/**
 * Everything the placement decides from: clients, tasks (indexed by position in {@link #tasks()},
 * which is what {@link ClientSpec} refers to), and the settings.
 *
 * @param clients the live clients
 * @param tasks every task of the application
 * @param standbys {@code num.standby.replicas}
 * @param acceptableRecoveryLag {@code acceptable.recovery.lag}: a copy within this lag may take
 *     over as active
 * @param maxWarmups {@code max.warmup.replicas}: warm-up copies placed at most, cluster-wide
 */
public record PlacementInput(
    List<ClientSpec> clients,
    List<TaskSpec> tasks,
    int standbys,
    long acceptableRecoveryLag,
    int maxWarmups) {
  /** Checks the arguments. */
  public PlacementInput {
    clients = List.copyOf(clients);
    tasks = List.copyOf(tasks);
    if (standbys < 0) {
      throw new IllegalArgumentException("standbys must be >= 0, got " + standbys);
    }
    if (acceptableRecoveryLag < 0) {
      throw new IllegalArgumentException(
          "acceptable recovery lag must be >= 0, got " + acceptableRecoveryLag);
    }
    if (maxWarmups < 0) {
      throw new IllegalArgumentException("max warm-ups must be >= 0, got " + maxWarmups);
    }
  }
}
