package dev.backbone.errors;

/** A failure that may go away by itself: retry the same call later. */
public class RetriableBackboneException extends BackboneException {
  /**
   * @param code stable failure code, e.g. {@code REBALANCING}
   * @param message what happened, to what, and what to do
   */
  public RetriableBackboneException(String code, String message) {
    this(code, message, null);
  }

  /**
   * @param code stable failure code
   * @param message what happened, to what, and what to do
   * @param cause the underlying failure, or null
   */
  public RetriableBackboneException(String code, String message, Throwable cause) {
    super(code, message, cause);
  }

  @Override
  public boolean isRetriable() {
    return true;
  }
}
