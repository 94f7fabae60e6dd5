package dev.backbone.examples.profiles;

/**
 * How many events of each type a customer produced.
 *
 * @param views number of {@link EventType#VIEW} events
 * @param carts number of {@link EventType#CART} events
 * @param orders number of {@link EventType#ORDER} events
 * @param returns number of {@link EventType#RETURN} events
 */
public record EventCounts(long views, long carts, long orders, long returns) {

  /** No events at all. */
  public static final EventCounts ZERO = new EventCounts(0, 0, 0, 0);

  /** Rejects negative counts. */
  public EventCounts {
    if (views < 0 || carts < 0 || orders < 0 || returns < 0) {
      throw new IllegalArgumentException(
          "event counts must not be negative, got view="
              + views
              + " cart="
              + carts
              + " order="
              + orders
              + " return="
              + returns);
    }
  }

  /** The count of one type. */
  public long of(EventType type) {
    return switch (type) {
      case VIEW -> views;
      case CART -> carts;
      case ORDER -> orders;
      case RETURN -> returns;
    };
  }

  /** These counts with one more event of {@code type}; fails rather than wraps on overflow. */
  public EventCounts plus(EventType type) {
    return switch (type) {
      case VIEW -> new EventCounts(Math.incrementExact(views), carts, orders, returns);
      case CART -> new EventCounts(views, Math.incrementExact(carts), orders, returns);
      case ORDER -> new EventCounts(views, carts, Math.incrementExact(orders), returns);
      case RETURN -> new EventCounts(views, carts, orders, Math.incrementExact(returns));
    };
  }

  /** All events of all types. */
  public long total() {
    return views + carts + orders + returns;
  }
}
