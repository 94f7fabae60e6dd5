package dev.backbone.examples.profiles;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * One valid shop event, as {@link EventParser} accepts it. The constraints checked here are exactly
 * the ones the parser enforces, so every instance survives a JSON round trip through {@link
 * CustomerEventSerde} unchanged.
 *
 * @param customerId the customer, never blank
 * @param type what happened
 * @param ts event time in epoch milliseconds, never negative
 * @param sku the product, or {@code null} if the event names none; never blank
 * @param amountCents the amount in cents, never negative; 0 when the event carries no amount
 */
public record CustomerEvent(
    String customerId, EventType type, long ts, String sku, long amountCents) {

  /** Checks the invariants above. */
  public CustomerEvent {
    Objects.requireNonNull(customerId, "customerId");
    Objects.requireNonNull(type, "type");
    if (customerId.isBlank()) {
      throw new IllegalArgumentException("customerId must not be blank");
    }
    if (ts < 0) {
      throw new IllegalArgumentException("ts must not be negative, got " + ts);
    }
    if (sku != null && sku.isBlank()) {
      throw new IllegalArgumentException("sku must be null or non-blank, got \"" + sku + "\"");
    }
    if (amountCents < 0) {
      throw new IllegalArgumentException("amountCents must not be negative, got " + amountCents);
    }
  }

  /** The amount as an exact decimal with two places, e.g. {@code 19.99}. */
  public BigDecimal amount() {
    return BigDecimal.valueOf(amountCents, 2);
  }
}
