package dev.backbone.examples.profiles;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EventParserTest {

  private static final long RECORD_TS = 1_700_000_000_000L;

  /** Inputs that must be rejected, with the reason and a word the message must contain. */
  private record Rejected(String value, InvalidReason reason, String mentions) {}

  private static final List<Rejected> REJECTED =
      List.of(
          new Rejected("hello world", InvalidReason.NOT_JSON, "hello world"),
          new Rejected("", InvalidReason.NOT_JSON, "empty"),
          new Rejected("   ", InvalidReason.NOT_JSON, "empty"),
          new Rejected("[1,2]", InvalidReason.NOT_JSON, "not an object"),
          new Rejected("null", InvalidReason.NOT_JSON, "not an object"),
          new Rejected("{\"customerId\":\"c-1\",\"type\":\"view\"} x", InvalidReason.NOT_JSON, "x"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"customerId\":\"c-2\",\"type\":\"view\"}",
              InvalidReason.NOT_JSON,
              "customerId"),
          new Rejected("{\"customerId\":\"c-1\",\"type\":\"vi", InvalidReason.NOT_JSON, "c-1"),
          new Rejected("{\"type\":\"view\"}", InvalidReason.MISSING_ID, "customerId"),
          new Rejected(
              "{\"customerId\":null,\"type\":\"view\"}", InvalidReason.MISSING_ID, "customerId"),
          new Rejected(
              "{\"customerId\":\" \",\"type\":\"view\"}", InvalidReason.MISSING_ID, "blank"),
          new Rejected("{\"customerId\":42,\"type\":\"view\"}", InvalidReason.BAD_ID, "42"),
          new Rejected("{\"customerId\":\"c-1\"}", InvalidReason.MISSING_TYPE, "type"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"click\"}", InvalidReason.UNKNOWN_TYPE, "click"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"VIEW\"}", InvalidReason.UNKNOWN_TYPE, "VIEW"),
          new Rejected("{\"customerId\":\"c-1\",\"type\":3}", InvalidReason.UNKNOWN_TYPE, "3"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"view\",\"ts\":\"yesterday\"}",
              InvalidReason.BAD_TIMESTAMP,
              "yesterday"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"view\",\"ts\":1.5}",
              InvalidReason.BAD_TIMESTAMP,
              "1.5"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"view\",\"ts\":-1}",
              InvalidReason.BAD_TIMESTAMP,
              "-1"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"view\",\"ts\":99999999999999999999}",
              InvalidReason.BAD_TIMESTAMP,
              "99999999999999999999"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"view\",\"sku\":7}", InvalidReason.BAD_SKU, "7"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"order\",\"amount\":\"19.99\"}",
              InvalidReason.BAD_AMOUNT,
              "19.99"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"order\",\"amount\":true}",
              InvalidReason.BAD_AMOUNT,
              "true"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"order\",\"amount\":1e999999999}",
              InvalidReason.BAD_AMOUNT,
              "too large"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"order\",\"amount\":92233720368547758.08}",
              InvalidReason.BAD_AMOUNT,
              "too large"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"order\",\"amount\":-5}",
              InvalidReason.NEGATIVE_AMOUNT,
              "-5"),
          new Rejected(
              "{\"customerId\":\"c-1\",\"type\":\"view\",\"amount\":-0.001}",
              InvalidReason.NEGATIVE_AMOUNT,
              "amount"));

  @Test
  void rejectsEachMalformedInputWithItsReasonAndAMessageNamingTheValue() {
    for (Rejected rejected : REJECTED) {
      ParsedEvent parsed = parse(rejected.value());

      assertThat(parsed)
          .as("input %s", rejected.value())
          .isInstanceOfSatisfying(
              ParsedEvent.Invalid.class,
              invalid -> {
                assertThat(invalid.reason())
                    .as("reason of %s", rejected.value())
                    .isEqualTo(rejected.reason());
                assertThat(invalid.message())
                    .as("message of %s", rejected.value())
                    .contains(rejected.mentions());
              });
    }
  }

  @Test
  void everyInvalidReasonHasAConcreteInput() {
    Set<InvalidReason> covered = EnumSet.noneOf(InvalidReason.class);
    REJECTED.forEach(r -> covered.add(r.reason()));
    covered.add(InvalidReason.NOT_JSON); // the null value, tested below
    covered.add(InvalidReason.BAD_TIMESTAMP); // no ts and no record timestamp, tested below

    assertThat(covered).containsExactlyInAnyOrder(InvalidReason.values());
  }

  @Test
  void rejectsANullValueAsNotJson() {
    ParsedEvent parsed = EventParser.parse(null, RECORD_TS);

    assertThat(parsed)
        .isEqualTo(
            ParsedEvent.invalid(
                InvalidReason.NOT_JSON, "value is null (a tombstone), expected a JSON object"));
  }

  @Test
  void rejectsAMissingTsWhenTheRecordHasNoTimestamp() {
    ParsedEvent parsed = EventParser.parse(utf8("{\"customerId\":\"c-1\",\"type\":\"view\"}"), -1);

    assertThat(((ParsedEvent.Invalid) parsed).reason()).isEqualTo(InvalidReason.BAD_TIMESTAMP);
  }

  @Test
  void rejectsBytesThatAreNotUtf8WithoutThrowing() {
    byte[] garbage = {(byte) 0xff, (byte) 0xfe, 0x00, 0x7b, (byte) 0xc3};

    assertThat(((ParsedEvent.Invalid) EventParser.parse(garbage, RECORD_TS)).reason())
        .isEqualTo(InvalidReason.NOT_JSON);
  }

  @Test
  void acceptsAFullEvent() {
    assertThat(
            parse(
                "{\"customerId\":\"c-42\",\"type\":\"order\",\"ts\":1732500000000,"
                    + "\"sku\":\"sku-7\",\"amount\":19.99}"))
        .isEqualTo(
            ParsedEvent.valid(
                new CustomerEvent("c-42", EventType.ORDER, 1_732_500_000_000L, "sku-7", 1999)));
  }

  @Test
  void acceptsMissingOptionalFieldsWithTheirDefaults() {
    Map<String, CustomerEvent> cases = new LinkedHashMap<>();
    cases.put(
        "{\"customerId\":\"c-1\",\"type\":\"view\"}",
        new CustomerEvent("c-1", EventType.VIEW, RECORD_TS, null, 0));
    cases.put(
        "{\"customerId\":\"c-1\",\"type\":\"cart\",\"ts\":null,\"sku\":null,\"amount\":null}",
        new CustomerEvent("c-1", EventType.CART, RECORD_TS, null, 0));
    cases.put(
        "{\"customerId\":\"c-1\",\"type\":\"return\",\"ts\":5,\"sku\":\"  \",\"amount\":3}",
        new CustomerEvent("c-1", EventType.RETURN, 5, null, 300));
    cases.put(
        "{\"customerId\":\"c-1\",\"type\":\"view\",\"ts\":0,\"extra\":{\"a\":[1]}}",
        new CustomerEvent("c-1", EventType.VIEW, 0, null, 0));

    cases.forEach(
        (json, expected) ->
            assertThat(parse(json)).as(json).isEqualTo(ParsedEvent.valid(expected)));
  }

  @Test
  void roundsAmountsHalfUpToCentsExactly() {
    Map<String, Long> cents = new LinkedHashMap<>();
    cents.put("1.005", 101L); // 1.00499999... as a double, so exact decimals matter
    cents.put("1.004", 100L);
    cents.put("0.125", 13L);
    cents.put("2.675", 268L);
    cents.put("0.0001", 0L);
    cents.put("1e-999999999", 0L);
    cents.put("12", 1200L);
    cents.put("1E+2", 10000L);
    cents.put("-0.0", 0L);
    cents.put("92233720368547758.07", Long.MAX_VALUE);

    cents.forEach(
        (amount, expected) -> {
          ParsedEvent parsed =
              parse("{\"customerId\":\"c-1\",\"type\":\"order\",\"amount\":" + amount + "}");
          assertThat(parsed).as(amount).isInstanceOf(ParsedEvent.Valid.class);
          assertThat(((ParsedEvent.Valid) parsed).event().amountCents())
              .as(amount)
              .isEqualTo(expected);
        });
  }

  @Test
  void keepsTheCustomerIdExactlyAsGiven() {
    ParsedEvent parsed = parse("{\"customerId\":\" c-1 \",\"type\":\"view\",\"ts\":1}");

    assertThat(((ParsedEvent.Valid) parsed).event().customerId()).isEqualTo(" c-1 ");
  }

  private static ParsedEvent parse(String json) {
    return EventParser.parse(utf8(json), RECORD_TS);
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
