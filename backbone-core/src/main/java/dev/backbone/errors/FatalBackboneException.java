package dev.backbone.errors;

/** A failure that repeating the call will not fix: the input, configuration or data must change. */
public class FatalBackboneException extends BackboneException {
  /**
   * @param code stable failure code, e.g. {@code BAD_CONFIG}
   * @param message what happened, to what, and what to do
   */
  public FatalBackboneException(String code, String message) {
    this(code, message, null);
  }

  /**
   * @param code stable failure code
   * @param message what happened, to what, and what to do
   * @param cause the underlying failure, or null
   */
  public FatalBackboneException(String code, String message, Throwable cause) {
    super(code, message, cause);
  }

  @Override
  public boolean isRetriable() {
    return false;
  }
}
