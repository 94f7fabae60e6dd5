package dev.backbone.server.internals;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * One error answer of the HTTP API: its status, its stable code and message, and for a 503 the
 * {@code Retry-After} seconds. Written as {@code {"error":{"code":..,"message":..}}}.
 *
 * @param status HTTP status
 * @param code stable upper-snake-case code, e.g. {@code STORE_NOT_FOUND}
 * @param message what happened and what to do; never a stack trace
 * @param retryAfterSeconds the {@code Retry-After} header, present exactly for retriable answers
 */
public record ApiError(int status, String code, String message, OptionalInt retryAfterSeconds) {

  /** Checks the arguments. */
  public ApiError {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("an error status is 4xx or 5xx, not " + status);
    }
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(retryAfterSeconds, "retryAfterSeconds");
  }

  /** The JSON body of this error. */
  public Body body() {
    return new Body(new Detail(code, message));
  }

  /**
   * The JSON body of an error answer.
   *
   * @param error the error
   */
  public record Body(Detail error) {}

  /**
   * The {@code error} object of an error answer.
   *
   * @param code stable code
   * @param message human-readable explanation
   */
  public record Detail(String code, String message) {}
}
