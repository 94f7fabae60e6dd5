package dev.backbone.examples.profiles;

/**
 * Why {@link EventParser} rejected an event. The enum name is the stable code written to the {@code
 * backbone.dlq.code} header and used as the {@code code} tag of the DLQ counter.
 */
public enum InvalidReason {
  /**
   * The value is not a JSON object: null (a tombstone), empty, not parseable, with trailing content
   * or duplicate fields, or a JSON value other than an object.
   */
  NOT_JSON,
  /** {@code customerId} is absent, JSON null, or a blank string. */
  MISSING_ID,
  /** {@code customerId} is present but not a string. */
  BAD_ID,
  /** {@code type} is absent or JSON null. */
  MISSING_TYPE,
  /** {@code type} is not one of {@code view}, {@code cart}, {@code order}, {@code return}. */
  UNKNOWN_TYPE,
  /**
   * {@code ts} is not an integer, out of range or negative, or is absent while the record has no
   * timestamp to fall back on.
   */
  BAD_TIMESTAMP,
  /** {@code sku} is present but not a string. */
  BAD_SKU,
  /** {@code amount} is not a JSON number, or too large to be held in cents. */
  BAD_AMOUNT,
  /** {@code amount} is below zero. */
  NEGATIVE_AMOUNT
}
