package dev.backbone.retention.internals;

import dev.backbone.errors.BackboneException;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import java.io.IOException;

/**
 * Why one step of an archive call failed, kept checked inside the archive so that each step says
 * what it knows (the file, the problem) and {@link #toBackboneException} adds, in one place, the
 * call, the snapshot, the archive and what to do.
 */
final class ArchiveFailure extends Exception {

  /** What went wrong, with its code and what the operator should do. */
  enum Problem {
    UNAVAILABLE(
        "ARCHIVE_UNAVAILABLE",
        true,
        "Check that the archive is reachable and writable, then repeat the call (an upload sends"
            + " only what is still missing)"),
    SOURCE_INVALID(
        "ARCHIVE_SOURCE_INVALID",
        false,
        "The local snapshot is damaged or was deleted while it was read: cut a new one and upload"
            + " that"),
    FILE_CORRUPT(
        "ARCHIVE_FILE_CORRUPT",
        false,
        "The archived copy is damaged: download an older snapshot of the store instead, and delete"
            + " the damaged file from the archive so that the next upload sends it again"),
    FILE_MISSING(
        "ARCHIVE_FILE_MISSING",
        false,
        "A file the manifest names is gone from the archive (deleted by hand, or by a retention run"
            + " longer ago than its grace period): download another snapshot of the store"),
    SNAPSHOT_GONE(
        "ARCHIVE_SNAPSHOT_GONE",
        false,
        "Retention deleted it since it was listed: list the store's snapshots again"),
    LOCAL_WRITE(
        "ARCHIVE_LOCAL_WRITE_FAILED",
        false,
        "Free disk space there or fix its permissions; nothing was left behind");

    final String code;
    final boolean retriable;
    final String advice;

    Problem(String code, boolean retriable, String advice) {
      this.code = code;
      this.retriable = retriable;
      this.advice = advice;
    }
  }

  final Problem problem;

  /**
   * @param problem what kind of failure
   * @param subject what failed, e.g. {@code file 000012.sst} or {@code the manifest}
   * @param detail what happened to it
   * @param cause the underlying failure, or null
   */
  ArchiveFailure(Problem problem, String subject, String detail, Throwable cause) {
    super(subject + " " + detail, cause);
    this.problem = problem;
  }

  /** The failure of an archive call, as its caller sees it. */
  static BackboneException toBackboneException(String call, Exception failure) {
    if (failure instanceof BackboneException b) {
      return b;
    }
    BackboneException result;
    if (failure instanceof ArchiveFailure f) {
      String message = call + " failed: " + f.getMessage() + ". " + f.problem.advice + ".";
      result =
          f.problem.retriable
              ? new RetriableBackboneException(f.problem.code, message, f.getCause())
              : new FatalBackboneException(f.problem.code, message, f.getCause());
    } else if (failure instanceof InterruptedException) {
      Thread.currentThread().interrupt();
      result =
          new RetriableBackboneException(
              "INTERRUPTED", call + " was interrupted; nothing partial was left", failure);
    } else if (failure instanceof IOException) {
      result =
          new RetriableBackboneException(
              Problem.UNAVAILABLE.code,
              call + " failed: " + failure + ". " + Problem.UNAVAILABLE.advice + ".",
              failure);
    } else {
      result = new FatalBackboneException("ARCHIVE_FAILED", call + " failed: " + failure, failure);
    }
    for (Throwable other : failure.getSuppressed()) {
      result.addSuppressed(other);
    }
    return result;
  }
}
