package dev.backbone.server.internals;

import com.fasterxml.jackson.databind.JsonNode;

/** Turns a peer's JSON error answer back into the failure it stood for, code and message kept. */
final class PeerErrors {
  private PeerErrors() {}

  /** The failure a peer answered with {@code status} and {@code body} (the one error shape). */
  static RuntimeException relayed(int status, JsonNode body) {
    JsonNode error = body.path("error");
    String code =
        error.path("code").asText(status == 503 ? HttpErrors.REBALANCING : "HTTP_" + status);
    String message = error.path("message").asText("The peer answered HTTP " + status + ".");
    if (status == 503) {
      return HttpErrors.retriable(code, message);
    }
    if (status >= 500) {
      return new IllegalStateException("A peer failed with HTTP " + status + ": " + message);
    }
    return HttpErrors.fatal(code, message);
  }
}
