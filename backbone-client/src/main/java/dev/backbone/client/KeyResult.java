package dev.backbone.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * The answer of a key read.
 *
 * @param key the key
 * @param value the value as JSON; empty when the store holds none for the key
 * @param node the node that read it
 * @param partition the store partition of the key
 * @param position the position token of exactly the state read (pass it as {@code minPosition})
 * @param stale for a {@code staleOk} read whether the replica may be behind; empty otherwise
 * @param lag for a stale answer the replica's offset lag (-1 unknown); empty otherwise
 */
public record KeyResult(
    String key,
    Optional<JsonNode> value,
    String node,
    int partition,
    String position,
    Optional<Boolean> stale,
    Optional<Long> lag) {

  /** Whether the store holds a value for the key. */
  public boolean found() {
    return value.isPresent();
  }
}
