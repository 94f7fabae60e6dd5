package dev.backbone.bootstrap;

import dev.backbone.errors.RetriableBackboneException;

/**
 * A store that cannot be restored from its changelog: it needs records from {@code neededFrom} on,
 * and the changelog starts later (retention or a rescale's generation base deleted them), and no
 * replica of the task can be copied from right now. Replaying what is left would build a store
 * without the deleted records' effects, a loss no later read could tell; so the task waits, failing
 * its initialization with this reason until a replica can be copied (a peer that comes back, later
 * the snapshot archive).
 */
public final class ChangelogTruncatedException extends RetriableBackboneException {
  /** The error code. */
  public static final String CODE = "CHANGELOG_TRUNCATED";

  /**
   * @param message what is missing, for which task and store, and what the task waits for
   */
  public ChangelogTruncatedException(String message) {
    super(CODE, message);
  }
}
