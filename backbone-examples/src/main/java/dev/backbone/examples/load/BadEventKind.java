package dev.backbone.examples.load;

import dev.backbone.examples.profiles.InvalidReason;

/** The kinds of malformed event the load generator produces, and how the parser must judge them. */
public enum BadEventKind {
  /** A valid event cut in half: not parseable JSON. */
  NOT_JSON(InvalidReason.NOT_JSON),
  /** An event without {@code customerId}, sent with a null key. */
  MISSING_ID(InvalidReason.MISSING_ID),
  /** An event whose type is none of the four known ones. */
  UNKNOWN_TYPE(InvalidReason.UNKNOWN_TYPE),
  /** An order with a negative amount. */
  NEGATIVE_AMOUNT(InvalidReason.NEGATIVE_AMOUNT);

  private final InvalidReason expectedReason;

  BadEventKind(InvalidReason expectedReason) {
    this.expectedReason = expectedReason;
  }

  /** The reason the pipeline's parser gives for this kind, and so the DLQ code header. */
  public InvalidReason expectedReason() {
    return expectedReason;
  }
}
