package dev.backbone.client;

/**
 * A call the cluster refused or could not answer: the API's error code and message, the HTTP
 * status, and whether repeating the call may succeed (the client already retried those as far as it
 * was configured to).
 */
public final class BackboneClientException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String code;
  private final int status;

  /**
   * @param code the API's error code, e.g. {@code STORE_NOT_FOUND}, or {@code UNREACHABLE} when no
   *     node answered
   * @param status the HTTP status, 0 when no node answered
   * @param message what happened
   * @param cause the transport failure, if any
   */
  public BackboneClientException(String code, int status, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.status = status;
  }

  /** The API's error code. */
  public String code() {
    return code;
  }

  /** The HTTP status, 0 when no node answered. */
  public int status() {
    return status;
  }

  /** Whether the same call may succeed later (503, or no node answered). */
  public boolean isRetriable() {
    return status == 503 || status == 0;
  }
}
