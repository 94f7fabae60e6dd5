package dev.backbone.server.internals;

import dev.backbone.config.BackboneConfig;
import dev.backbone.errors.BackboneException;
import dev.backbone.server.QueryableStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import org.apache.kafka.streams.query.Position;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every call of the HTTP API goes through, whichever handler serves it (a Javalin route, or
 * {@link DirectCallsHandler} on Jetty directly): the bearer-token check, the body-size limit, the
 * store lookup, the read flags, and the error answer with its headers. One place, so the two
 * handlers cannot drift apart.
 */
final class ApiRequests {
  private static final Logger log = LoggerFactory.getLogger(ApiRequests.class);

  private final BackboneConfig config;
  private final Map<String, QueryableStore<?, ?>> stores;
  private final HttpErrors errors;
  private final Optional<byte[]> authToken;

  ApiRequests(BackboneConfig config, Map<String, QueryableStore<?, ?>> stores, HttpErrors errors) {
    this.config = config;
    this.stores = stores;
    this.errors = errors;
    this.authToken = config.httpAuthToken().map(t -> t.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * With {@code backbone.http.auth.token} set, every call but the health checks and the internal
   * snapshot transfer (which needs the cluster secret instead) must carry {@code Authorization:
   * Bearer <token>}: none is 401 (its answer carries {@code WWW-Authenticate}, see {@link
   * #errorHeaders}), another token 403. The token is compared in constant time.
   *
   * @param path the request path
   * @param authorization the {@code Authorization} header, or null
   */
  void authorize(String path, String authorization) {
    if (authToken.isEmpty()) {
      return;
    }
    if (path.startsWith("/health/") || path.startsWith("/internal/")) {
      return;
    }
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw HttpErrors.fatal(
          HttpErrors.UNAUTHORIZED,
          "This node needs 'Authorization: Bearer <token>' (the node's --auth-token /"
              + " BACKBONE_AUTH_TOKEN) on every call but /health.");
    }
    byte[] presented = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(presented, authToken.get())) {
      throw HttpErrors.fatal(HttpErrors.FORBIDDEN, "The bearer token is not this node's token.");
    }
  }

  /** A body larger than {@code backbone.http.max.body.bytes} is refused before it is read. */
  void checkBodySize(long length) {
    if (length > config.httpMaxBodyBytes()) {
      throw HttpErrors.fatal(HttpErrors.BODY_TOO_LARGE, bodyTooLarge(length));
    }
  }

  /** The message of a refused body, also used when a body turns out larger while it is read. */
  String bodyTooLarge(long length) {
    return "The request body ("
        + (length < 0 ? "more" : length + " bytes")
        + ") is larger than "
        + BackboneConfig.HTTP_MAX_BODY_BYTES_CONFIG
        + " ("
        + config.httpMaxBodyBytes()
        + " bytes).";
  }

  /** The store of that name, or 404 {@code STORE_NOT_FOUND} naming the known ones. */
  QueryableStore<?, ?> store(String name) {
    QueryableStore<?, ?> store = stores.get(name);
    if (store == null) {
      throw HttpErrors.fatal(
          HttpErrors.STORE_NOT_FOUND,
          "No store '"
              + KeyCodec.abbreviate(name)
              + "' on this application; known stores: "
              + stores.keySet()
              + ".");
    }
    return store;
  }

  /** A query parameter that is absent (false), {@code true} or {@code false}; else 400. */
  static boolean booleanParam(String name, String value) {
    if (value != null && !value.equals("true") && !value.equals("false")) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_REQUEST, name + " is 'true' or 'false', not '" + value + "'.");
    }
    return "true".equals(value);
  }

  /**
   * The read flags of a call ({@code staleOk}, {@code minPosition}) and, for a call a peer
   * forwarded, its forwarding headers.
   *
   * @param query a query parameter's first value by name, or null
   * @param header a header by name, or null
   */
  static KeyReadRouter.ReadRequest readRequest(
      UnaryOperator<String> query, UnaryOperator<String> header) {
    boolean staleOk = booleanParam("staleOk", query.apply("staleOk"));
    String token = query.apply("minPosition");
    Optional<Position> minPosition =
        token == null ? Optional.empty() : Optional.of(PositionTokens.decode(token));
    Optional<String> forwardedBy =
        Optional.ofNullable(header.apply(PeerForwarder.FORWARDED_BY)).filter(s -> !s.isBlank());
    if (forwardedBy.isEmpty()) {
      return KeyReadRouter.ReadRequest.fromClient(staleOk, minPosition);
    }
    int hops = parseOr(header.apply(PeerForwarder.HOPS), 1L).intValue();
    Long generation = parseOr(header.apply(PeerForwarder.ROUTING_GENERATION), null);
    return new KeyReadRouter.ReadRequest(
        forwardedBy,
        Math.max(hops, 1),
        generation == null ? OptionalLong.empty() : OptionalLong.of(generation),
        staleOk,
        minPosition);
  }

  private static Long parseOr(String header, Long fallback) {
    if (header == null || header.isBlank()) {
      return fallback;
    }
    try {
      return Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  /**
   * Whether the call asks for the value's bytes: its {@code Accept} header names {@code
   * application/octet-stream} first (a JSON error is still JSON).
   */
  static boolean wantsBytes(String accept) {
    if (accept == null) {
      return false;
    }
    int end = accept.indexOf(',');
    String first = (end < 0 ? accept : accept.substring(0, end)).trim();
    int params = first.indexOf(';');
    return (params < 0 ? first : first.substring(0, params))
        .trim()
        .equalsIgnoreCase(KeyReadRouter.OCTET_STREAM);
  }

  /** A binary read's metadata, which a JSON answer carries in its body, as headers. */
  static void binaryHeaders(KeyReadRouter.KeyAnswer answer, BiConsumer<String, String> header) {
    header.accept(HttpApi.POSITION_HEADER, answer.position());
    header.accept(HttpApi.PARTITION_HEADER, Integer.toString(answer.partition()));
    header.accept(HttpApi.GENERATION_HEADER, Long.toString(answer.generation()));
    if (answer.stale() != null) {
      header.accept(HttpApi.STALE_HEADER, answer.stale().toString());
    }
    if (answer.lag() != null) {
      header.accept(HttpApi.LAG_HEADER, answer.lag().toString());
    }
  }

  /**
   * The answer to a failed call, logged as it deserves: an unexpected failure (500) with its stack
   * trace under the error id its message carries, a refusal at debug level only.
   */
  ApiError failed(Exception failure, String method, String uri) {
    ApiError error = errors.toApiError(failure);
    if (error.status() == 500) {
      log.error("{} {} failed: {}", method, uri, error.message(), failure);
    } else if (failure instanceof BackboneException && log.isDebugEnabled()) {
      log.debug("{} {}: {}", method, uri, error.message());
    }
    return error;
  }

  /** The answer for an error status the server produces by itself (e.g. 405). */
  ApiError frameworkStatus(int status, String reason) {
    return errors.fromFrameworkStatus(status, reason);
  }

  /** The headers an error answer carries besides its body: Retry-After, WWW-Authenticate. */
  static void errorHeaders(ApiError error, BiConsumer<String, String> header) {
    error.retryAfterSeconds().ifPresent(s -> header.accept("Retry-After", Integer.toString(s)));
    if (error.status() == 401) {
      header.accept("WWW-Authenticate", "Bearer");
    }
  }
}
