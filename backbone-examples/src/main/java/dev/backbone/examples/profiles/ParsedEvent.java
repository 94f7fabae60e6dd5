package dev.backbone.examples.profiles;

import java.util.Objects;

/**
 * The outcome of {@link EventParser#parse}: either a {@link Valid} event or an {@link Invalid} one
 * with its reason. A value, not an exception, because a malformed event is an expected input that
 * goes to the dead-letter queue, not a failure.
 */
public sealed interface ParsedEvent permits ParsedEvent.Valid, ParsedEvent.Invalid {

  /** An accepted event. */
  static ParsedEvent valid(CustomerEvent event) {
    return new Valid(event);
  }

  /** A rejected event. */
  static ParsedEvent invalid(InvalidReason reason, String message) {
    return new Invalid(reason, message);
  }

  /**
   * An accepted event.
   *
   * @param event the parsed event
   */
  record Valid(CustomerEvent event) implements ParsedEvent {
    /** Rejects a null event. */
    public Valid {
      Objects.requireNonNull(event, "event");
    }
  }

  /**
   * A rejected event.
   *
   * @param reason the stable code
   * @param message for people: names the offending field and its value
   */
  record Invalid(InvalidReason reason, String message) implements ParsedEvent {
    /** Rejects a null reason or message. */
    public Invalid {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(message, "message");
    }
  }
}
