package dev.backbone.examples.profiles;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What the {@code customer-profiles} table holds for one customer, and the rule that folds an event
 * into it ({@link #apply}).
 *
 * <p>Decisions, each chosen so the result does not depend on anything but the events:
 *
 * <ul>
 *   <li>Money is exact: {@code long} cents, never a double. {@code totalSpend} is the sum of order
 *       amounts minus the sum of return amounts; view and cart amounts are ignored. It may go
 *       negative when returns exceed orders.
 *   <li>{@code orders} is the number of order events ({@code counts().orders()}).
 *   <li>{@code firstSeen} / {@code lastSeen} are the minimum / maximum event {@code ts}, so
 *       out-of-order events do not move them the wrong way.
 *   <li>{@code lastSkus} is a history, newest (in processing order) first, at most {@value
 *       #MAX_LAST_SKUS}, duplicates kept; an event without a sku adds nothing.
 *   <li>The empty profile (no events) has {@code firstSeen = Long.MAX_VALUE} and {@code lastSeen =
 *       Long.MIN_VALUE}, the identities of min and max, so {@link #apply} needs no special case;
 *       its JSON shows both as {@code null}. Only non-empty profiles are ever stored.
 *   <li>Arithmetic overflow fails the event loudly instead of wrapping.
 * </ul>
 *
 * @param customerId the customer, never blank
 * @param counts events per type
 * @param totalSpendCents order amounts minus return amounts, in cents
 * @param firstSeen smallest event ts, or {@code Long.MAX_VALUE} when empty
 * @param lastSeen largest event ts, or {@code Long.MIN_VALUE} when empty
 * @param lastSkus up to {@value #MAX_LAST_SKUS} skus, newest first; immutable
 */
public record CustomerProfile(
    String customerId,
    EventCounts counts,
    long totalSpendCents,
    long firstSeen,
    long lastSeen,
    List<String> lastSkus) {

  /** How many skus {@link #lastSkus()} keeps. */
  public static final int MAX_LAST_SKUS = 10;

  /** Checks the invariants listed in the class comment and copies {@code lastSkus}. */
  public CustomerProfile {
    Objects.requireNonNull(customerId, "customerId");
    Objects.requireNonNull(counts, "counts");
    lastSkus = List.copyOf(Objects.requireNonNull(lastSkus, "lastSkus"));
    if (customerId.isBlank()) {
      throw new IllegalArgumentException("customerId must not be blank");
    }
    if (lastSkus.size() > MAX_LAST_SKUS) {
      throw new IllegalArgumentException(
          "lastSkus holds at most " + MAX_LAST_SKUS + " skus, got " + lastSkus.size());
    }
    if (counts.equals(EventCounts.ZERO)) {
      if (firstSeen != Long.MAX_VALUE
          || lastSeen != Long.MIN_VALUE
          || totalSpendCents != 0
          || !lastSkus.isEmpty()) {
        throw new IllegalArgumentException(
            "a profile without events must be empty(), got " + customerId);
      }
    } else if (firstSeen < 0 || firstSeen > lastSeen) {
      throw new IllegalArgumentException(
          "need 0 <= firstSeen <= lastSeen, got firstSeen="
              + firstSeen
              + " lastSeen="
              + lastSeen
              + " for "
              + customerId);
    }
  }

  /** The profile of a customer before any event. */
  public static CustomerProfile empty(String customerId) {
    return new CustomerProfile(
        customerId, EventCounts.ZERO, 0, Long.MAX_VALUE, Long.MIN_VALUE, List.of());
  }

  /**
   * The profile after {@code event}.
   *
   * @throws IllegalArgumentException if the event belongs to another customer
   * @throws ArithmeticException if a count or the spend would overflow
   */
  public CustomerProfile apply(CustomerEvent event) {
    if (!customerId.equals(event.customerId())) {
      throw new IllegalArgumentException(
          "event of customer " + event.customerId() + " applied to the profile of " + customerId);
    }
    long spend =
        switch (event.type()) {
          case ORDER -> Math.addExact(totalSpendCents, event.amountCents());
          case RETURN -> Math.subtractExact(totalSpendCents, event.amountCents());
          case VIEW, CART -> totalSpendCents;
        };
    return new CustomerProfile(
        customerId,
        counts.plus(event.type()),
        spend,
        Math.min(firstSeen, event.ts()),
        Math.max(lastSeen, event.ts()),
        event.sku() == null ? lastSkus : prepend(event.sku(), lastSkus));
  }

  /** The number of order events. */
  public long orders() {
    return counts.orders();
  }

  /** The total spend as an exact decimal with two places. */
  public BigDecimal totalSpend() {
    return BigDecimal.valueOf(totalSpendCents, 2);
  }

  /** Whether no event was applied yet. */
  public boolean isEmpty() {
    return counts.equals(EventCounts.ZERO);
  }

  private static List<String> prepend(String sku, List<String> skus) {
    List<String> next = new ArrayList<>(MAX_LAST_SKUS);
    next.add(sku);
    next.addAll(skus.subList(0, Math.min(skus.size(), MAX_LAST_SKUS - 1)));
    return next;
  }
}
