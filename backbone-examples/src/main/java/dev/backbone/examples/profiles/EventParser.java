package dev.backbone.examples.profiles;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Turns the raw bytes of a {@code customer-events} record into a {@link CustomerEvent}, or says
 * exactly why it cannot. Never throws: a malformed event is data for the dead-letter queue, not a
 * reason to stop a stream thread.
 *
 * <p>Accepted input, a JSON object (unknown fields are ignored):
 *
 * <ul>
 *   <li>{@code customerId}: required non-blank string, kept as is (not trimmed).
 *   <li>{@code type}: required, exactly one of {@code view}, {@code cart}, {@code order}, {@code
 *       return} (case-sensitive).
 *   <li>{@code ts}: optional integer, epoch milliseconds, not negative; absent or null means the
 *       record timestamp.
 *   <li>{@code sku}: optional string; absent, null or blank means "no sku".
 *   <li>{@code amount}: optional JSON number, not negative; absent or null means 0. Read as an
 *       exact decimal and rounded half-up to cents, so {@code 1.005} is 101 cents (through a double
 *       it would be 100). A string such as {@code "19.99"} is rejected, not coerced.
 * </ul>
 *
 * <p>Fields are checked in the order above and the first problem is reported. The amount is checked
 * on every type, though only orders and returns count towards spend.
 */
public final class EventParser {

  /** Amounts with more integer digits than this cannot be held as {@code long} cents. */
  private static final int MAX_AMOUNT_INTEGER_DIGITS = 17;

  private EventParser() {}

  /**
   * Parses one record value.
   *
   * @param value the raw record value, may be null
   * @param recordTimestamp the record's timestamp, used when the event has no {@code ts}; a
   *     negative value means the record has none
   * @return the event, or the reason it was rejected with a message naming the field and value
   */
  public static ParsedEvent parse(byte[] value, long recordTimestamp) {
    try {
      return parseObject(value, recordTimestamp);
    } catch (RuntimeException e) {
      // Defensive: no input is known to get here, but the contract is "never throws".
      return ParsedEvent.invalid(
          InvalidReason.NOT_JSON, "value could not be read (" + e + "): " + Json.show(value));
    }
  }

  private static ParsedEvent parseObject(byte[] value, long recordTimestamp) {
    if (value == null) {
      return ParsedEvent.invalid(
          InvalidReason.NOT_JSON, "value is null (a tombstone), expected a JSON object");
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(value);
    } catch (JsonProcessingException e) {
      return ParsedEvent.invalid(
          InvalidReason.NOT_JSON,
          "value is not JSON (" + e.getOriginalMessage() + "): " + Json.show(value));
    } catch (IOException e) {
      return ParsedEvent.invalid(
          InvalidReason.NOT_JSON,
          "value is not JSON (" + e.getMessage() + "): " + Json.show(value));
    }
    if (root == null || root.isMissingNode()) {
      return ParsedEvent.invalid(
          InvalidReason.NOT_JSON, "value is empty, expected a JSON object: " + Json.show(value));
    }
    if (!root.isObject()) {
      return ParsedEvent.invalid(
          InvalidReason.NOT_JSON, "value is JSON but not an object: " + Json.show(root));
    }
    return parseFields(root, recordTimestamp);
  }

  private static ParsedEvent parseFields(JsonNode root, long recordTimestamp) {
    JsonNode idNode = root.get("customerId");
    if (Json.absent(idNode)) {
      return ParsedEvent.invalid(InvalidReason.MISSING_ID, "customerId is missing");
    }
    if (!idNode.isTextual()) {
      return ParsedEvent.invalid(
          InvalidReason.BAD_ID, "customerId must be a string, got " + Json.show(idNode));
    }
    if (idNode.textValue().isBlank()) {
      return ParsedEvent.invalid(
          InvalidReason.MISSING_ID, "customerId is blank: " + Json.show(idNode));
    }

    JsonNode typeNode = root.get("type");
    if (Json.absent(typeNode)) {
      return ParsedEvent.invalid(InvalidReason.MISSING_TYPE, "type is missing");
    }
    EventType type =
        typeNode.isTextual() ? EventType.fromJsonName(typeNode.textValue()).orElse(null) : null;
    if (type == null) {
      return ParsedEvent.invalid(
          InvalidReason.UNKNOWN_TYPE,
          "type must be one of view, cart, order, return, got " + Json.show(typeNode));
    }

    long ts;
    JsonNode tsNode = root.get("ts");
    if (Json.absent(tsNode)) {
      if (recordTimestamp < 0) {
        return ParsedEvent.invalid(
            InvalidReason.BAD_TIMESTAMP,
            "ts is missing and the record has no timestamp (" + recordTimestamp + ")");
      }
      ts = recordTimestamp;
    } else if (!tsNode.isIntegralNumber() || !tsNode.canConvertToLong()) {
      return ParsedEvent.invalid(
          InvalidReason.BAD_TIMESTAMP,
          "ts must be an integer number of epoch milliseconds, got " + Json.show(tsNode));
    } else if (tsNode.longValue() < 0) {
      return ParsedEvent.invalid(
          InvalidReason.BAD_TIMESTAMP, "ts must not be negative, got " + Json.show(tsNode));
    } else {
      ts = tsNode.longValue();
    }

    String sku = null;
    JsonNode skuNode = root.get("sku");
    if (!Json.absent(skuNode)) {
      if (!skuNode.isTextual()) {
        return ParsedEvent.invalid(
            InvalidReason.BAD_SKU, "sku must be a string, got " + Json.show(skuNode));
      }
      sku = skuNode.textValue().isBlank() ? null : skuNode.textValue();
    }

    long amountCents = 0;
    JsonNode amountNode = root.get("amount");
    if (!Json.absent(amountNode)) {
      if (!amountNode.isNumber()) {
        return ParsedEvent.invalid(
            InvalidReason.BAD_AMOUNT, "amount must be a number, got " + Json.show(amountNode));
      }
      BigDecimal amount = amountNode.decimalValue();
      if (amount.signum() < 0) {
        return ParsedEvent.invalid(
            InvalidReason.NEGATIVE_AMOUNT,
            "amount must not be negative, got " + Json.show(amountNode));
      }
      Long cents = toCents(amount);
      if (cents == null) {
        return ParsedEvent.invalid(
            InvalidReason.BAD_AMOUNT,
            "amount is too large to be held in cents, got " + Json.show(amountNode));
      }
      amountCents = cents;
    }
    return ParsedEvent.valid(new CustomerEvent(idNode.textValue(), type, ts, sku, amountCents));
  }

  /**
   * Rounds half-up to cents, or returns null when the result does not fit a {@code long}. The digit
   * checks come first because a JSON number like {@code 1e999999999} is short text but would make
   * {@code setScale} build an enormous number.
   */
  private static Long toCents(BigDecimal amount) {
    int integerDigits = amount.precision() - amount.scale();
    if (integerDigits > MAX_AMOUNT_INTEGER_DIGITS) {
      return null;
    }
    if (integerDigits < -2) {
      return 0L; // below 0.001, which rounds to zero cents
    }
    try {
      return amount.setScale(2, RoundingMode.HALF_UP).unscaledValue().longValueExact();
    } catch (ArithmeticException e) {
      return null;
    }
  }
}
