package dev.backbone.errors;

/**
 * Root of every exception Backbone throws. Unchecked; split into {@link RetriableBackboneException}
 * (the same call may succeed later: a rebalance, an unreachable peer) and {@link
 * FatalBackboneException} (it will not succeed without a change: bad configuration, corrupt data).
 * Every message says what happened, to what (task, store, file, node) and what to do.
 *
 * <p>Each exception carries a stable {@link #code()} such as {@code STORE_NOT_FOUND}; the HTTP
 * layer maps codes to statuses, clients branch on them.
 */
public abstract class BackboneException extends RuntimeException {
  private final String code;

  protected BackboneException(String code, String message, Throwable cause) {
    super(message, cause);
    if (code == null || code.isBlank()) {
      throw new IllegalArgumentException("an exception code is required");
    }
    this.code = code;
  }

  /** A stable, upper-snake-case identifier of the failure, e.g. {@code STORE_NOT_FOUND}. */
  public String code() {
    return code;
  }

  /** Whether the same call may succeed if repeated later without any change. */
  public abstract boolean isRetriable();
}
