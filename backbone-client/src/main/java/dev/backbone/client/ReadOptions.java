package dev.backbone.client;

import java.util.Objects;
import java.util.Optional;

/**
 * Consistency choices of a read.
 *
 * @param staleOk whether a replica that may be behind (a standby, a restoring active) may answer;
 *     its answer then says {@code stale} and its lag
 * @param minPosition a position token (from an earlier answer or write) the answer must reflect at
 *     least: read your writes, monotonic reads
 */
public record ReadOptions(boolean staleOk, Optional<String> minPosition) {
  /** Current reads only, no position bound. */
  public static final ReadOptions DEFAULT = new ReadOptions(false, Optional.empty());

  /** Checks the components. */
  public ReadOptions {
    Objects.requireNonNull(minPosition, "minPosition (Optional.empty() for none)");
  }

  /** The same options, also accepting a stale replica. */
  public ReadOptions withStaleOk() {
    return new ReadOptions(true, minPosition);
  }

  /** The same options, bound to at least the given position token. */
  public ReadOptions withMinPosition(String token) {
    return new ReadOptions(staleOk, Optional.of(Objects.requireNonNull(token, "token")));
  }
}
