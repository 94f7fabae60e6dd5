package dev.backbone.server.internals;

import dev.backbone.errors.BackboneException;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import io.javalin.http.HttpResponseException;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;
import org.eclipse.jetty.http.BadMessageException;

/**
 * The one place that turns a failure into an HTTP error answer.
 *
 * <p>A {@link BackboneException} keeps its code and message; its status comes from {@link
 * #STATUS_BY_CODE}, and a retriable one is always 503 with {@code Retry-After} (the caller may
 * succeed by repeating the same call, which is exactly what 503 + Retry-After tells an HTTP
 * client). Javalin's own 404/405 become {@code NOT_FOUND}/{@code METHOD_NOT_ALLOWED}. Anything else
 * is a bug: 500 {@code INTERNAL} with a generic message and an error id that the caller logs beside
 * the stack trace, so an operator can find it without the client ever seeing internals.
 */
public final class HttpErrors {
  /** The key in the URL is empty, too long, not valid percent-encoded UTF-8, or was refused. */
  public static final String BAD_KEY = "BAD_KEY";

  /** The request is malformed (e.g. refused by the HTTP parser). */
  public static final String BAD_REQUEST = "BAD_REQUEST";

  /** A position token could not be decoded. */
  public static final String BAD_POSITION = "BAD_POSITION";

  /** A scan cursor could not be decoded, or belongs to another scan. */
  public static final String BAD_CURSOR = "BAD_CURSOR";

  /** A request asks for more than a configured limit allows (scan limit, batch size). */
  public static final String LIMIT_EXCEEDED = "LIMIT_EXCEEDED";

  /** The request body is larger than {@code backbone.http.max.body.bytes}. */
  public static final String BODY_TOO_LARGE = "BODY_TOO_LARGE";

  /** No credentials where the endpoint needs them. */
  public static final String UNAUTHORIZED = "UNAUTHORIZED";

  /** Wrong credentials. */
  public static final String FORBIDDEN = "FORBIDDEN";

  /** A write's body is not a valid value of the store. */
  public static final String BAD_VALUE = "BAD_VALUE";

  /** The store is not fed by a topic, so the API cannot write it. */
  public static final String NOT_WRITABLE = "NOT_WRITABLE";

  /** 406: a binary read of a store that has no binary form of its values. */
  public static final String NOT_ACCEPTABLE = "NOT_ACCEPTABLE";

  /** One event of {@code POST /v1/events} is not an event the API can append (no key). */
  public static final String BAD_EVENT = "BAD_EVENT";

  /** 404: {@code POST /v1/events} names no event topic of the application. */
  public static final String EVENT_TOPIC_NOT_FOUND = "EVENT_TOPIC_NOT_FOUND";

  /** Kafka refused a write; it was not written. Retriable. */
  public static final String WRITE_FAILED = "WRITE_FAILED";

  /** A write was not acknowledged in time; it may have been written. Retriable. */
  public static final String WRITE_UNKNOWN = "WRITE_UNKNOWN";

  /** The store is not served by this application. */
  public static final String STORE_NOT_FOUND = "STORE_NOT_FOUND";

  /** The store holds no value for the key. */
  public static final String KEY_NOT_FOUND = "KEY_NOT_FOUND";

  /** No endpoint has this path. */
  public static final String NOT_FOUND = "NOT_FOUND";

  /** The path exists but not for this method. */
  public static final String METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED";

  /** The request URI is longer than the server accepts. */
  public static final String URI_TOO_LONG = "URI_TOO_LONG";

  /** The owner of the key is unknown right now (rebalance, stage not running). Retriable. */
  public static final String REBALANCING = "REBALANCING";

  /**
   * This node runs the key's active replica but it is not caught up (restoring its changelog, or
   * reopened a moment ago). Retriable.
   */
  public static final String RESTORING = "RESTORING";

  /**
   * The replica that would answer has not reached the read's {@code minPosition} within the wait
   * (it is behind the write the token came from). Retriable.
   */
  public static final String POSITION_NOT_REACHED = "POSITION_NOT_REACHED";

  /** The node that owns the key did not answer in time. Retriable. */
  public static final String OWNER_UNREACHABLE = "OWNER_UNREACHABLE";

  /** Kafka did not answer a lookup the request needs (e.g. changelog end offsets). Retriable. */
  public static final String KAFKA_UNAVAILABLE = "KAFKA_UNAVAILABLE";

  /** An unexpected failure; details are only in the node's log. */
  public static final String INTERNAL = "INTERNAL";

  /** Status of each non-retriable code; a code not listed here is a 500. */
  static final Map<String, Integer> STATUS_BY_CODE =
      Map.ofEntries(
          Map.entry(BAD_KEY, 400),
          Map.entry(BAD_REQUEST, 400),
          Map.entry(BAD_POSITION, 400),
          Map.entry(BAD_CURSOR, 400),
          Map.entry(BAD_VALUE, 400),
          Map.entry(BAD_EVENT, 400),
          Map.entry(NOT_ACCEPTABLE, 406),
          Map.entry(EVENT_TOPIC_NOT_FOUND, 404),
          Map.entry(NOT_WRITABLE, 405),
          Map.entry(LIMIT_EXCEEDED, 400),
          Map.entry(UNAUTHORIZED, 401),
          Map.entry(FORBIDDEN, 403),
          Map.entry(STORE_NOT_FOUND, 404),
          Map.entry(KEY_NOT_FOUND, 404),
          Map.entry(NOT_FOUND, 404),
          Map.entry("SNAPSHOT_FILE_UNKNOWN", 404),
          Map.entry(METHOD_NOT_ALLOWED, 405),
          Map.entry(BODY_TOO_LARGE, 413),
          Map.entry("CONFLICT", 409),
          Map.entry(URI_TOO_LONG, 414));

  private final int retryAfterSeconds;

  /** The status of a non-retriable code, 500 for a code not in the table. */
  public static int statusOf(String code) {
    return STATUS_BY_CODE.getOrDefault(code, 500);
  }

  /**
   * A mapper whose 503 answers carry the given {@code Retry-After}.
   *
   * @param retryAfterSeconds the {@code Retry-After} of every 503 answer, at least 1
   */
  public HttpErrors(int retryAfterSeconds) {
    if (retryAfterSeconds < 1) {
      throw new IllegalArgumentException("Retry-After must be at least 1 s: " + retryAfterSeconds);
    }
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** A non-retriable failure with the given code (status from the code table). */
  public static FatalBackboneException fatal(String code, String message) {
    return new FatalBackboneException(code, message);
  }

  /** A retriable failure with the given code (always 503 + Retry-After). */
  public static RetriableBackboneException retriable(String code, String message) {
    return new RetriableBackboneException(code, message);
  }

  /**
   * The answer for a failure. For an unexpected one the message carries an error id; the caller
   * must log the failure with {@link ApiError#message()} so the id leads to the stack trace.
   */
  public ApiError toApiError(Throwable failure) {
    if (failure instanceof BackboneException e) {
      if (e.isRetriable()) {
        return new ApiError(503, e.code(), e.getMessage(), OptionalInt.of(retryAfterSeconds));
      }
      return new ApiError(statusOf(e.code()), e.code(), e.getMessage(), OptionalInt.empty());
    }
    if (failure instanceof HttpResponseException e) {
      return fromFrameworkStatus(e.getStatus(), e.getMessage());
    }
    if (failure instanceof BadMessageException e) {
      // Jetty's own refusal of a request it parses lazily (e.g. a malformed query string).
      return fromFrameworkStatus(e.getCode(), e.getReason());
    }
    return internal();
  }

  /** The answer for an error status the HTTP framework or server produced by itself. */
  public ApiError fromFrameworkStatus(int status, String reason) {
    String message = reason == null || reason.isBlank() ? "HTTP " + status : reason;
    return switch (status) {
      case 400 ->
          new ApiError(
              400,
              BAD_REQUEST,
              "Malformed request ("
                  + message
                  + "). Percent-encode every path segment as UTF-8 (RFC 3986), e.g. a key"
                  + " 'a b/c' as 'a%20b%2Fc'.",
              OptionalInt.empty());
      case 404 -> new ApiError(404, NOT_FOUND, message, OptionalInt.empty());
      case 405 -> new ApiError(405, METHOD_NOT_ALLOWED, message, OptionalInt.empty());
      case 413 ->
          new ApiError(
              413,
              BODY_TOO_LARGE,
              "The request body is larger than the node accepts (backbone.http.max.body.bytes).",
              OptionalInt.empty());
      case 414 ->
          new ApiError(
              414,
              URI_TOO_LONG,
              "The request URI is longer than the node accepts; keys are at most"
                  + " backbone.http.max.key.bytes bytes.",
              OptionalInt.empty());
      case 503 -> new ApiError(503, "UNAVAILABLE", message, OptionalInt.of(retryAfterSeconds));
      default -> {
        if (status >= 500) {
          yield internal();
        }
        yield new ApiError(status, "HTTP_" + status, message, OptionalInt.empty());
      }
    };
  }

  private static ApiError internal() {
    String errorId = UUID.randomUUID().toString();
    return new ApiError(
        500,
        INTERNAL,
        "Internal error " + errorId + "; the node's log has the details under this id.",
        OptionalInt.empty());
  }
}
