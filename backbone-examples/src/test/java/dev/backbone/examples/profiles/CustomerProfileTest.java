package dev.backbone.examples.profiles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CustomerProfileTest {

  @Test
  void ordersAddToSpendAndReturnsSubtractWhileViewAndCartAmountsAreIgnored() {
    CustomerProfile profile =
        fold(
            event(EventType.ORDER, 10, "a", 1000),
            event(EventType.CART, 11, "b", 99_999),
            event(EventType.VIEW, 12, "c", 55_555),
            event(EventType.RETURN, 13, "a", 2500));

    assertThat(profile.totalSpendCents()).isEqualTo(-1500);
    assertThat(profile.totalSpend()).hasToString("-15.00");
    assertThat(profile.orders()).isEqualTo(1);
    assertThat(profile.counts()).isEqualTo(new EventCounts(1, 1, 1, 1));
  }

  @Test
  void firstAndLastSeenAreTheExtremesOfEventTimeWhateverTheOrder() {
    CustomerProfile profile =
        fold(
            event(EventType.VIEW, 500, null, 0),
            event(EventType.VIEW, 100, null, 0),
            event(EventType.VIEW, 900, null, 0),
            event(EventType.VIEW, 300, null, 0));

    assertThat(profile.firstSeen()).isEqualTo(100);
    assertThat(profile.lastSeen()).isEqualTo(900);
  }

  @Test
  void keepsTheTenNewestSkusNewestFirstWithDuplicatesAndSkipsEventsWithoutSku() {
    CustomerProfile profile = CustomerProfile.empty("c-1");
    for (int i = 0; i < 12; i++) {
      profile = profile.apply(event(EventType.VIEW, i, "sku-" + i, 0));
      profile = profile.apply(event(EventType.VIEW, i, null, 0));
    }
    profile = profile.apply(event(EventType.CART, 20, "sku-11", 0));

    assertThat(profile.lastSkus())
        .containsExactly(
            "sku-11", "sku-11", "sku-10", "sku-9", "sku-8", "sku-7", "sku-6", "sku-5", "sku-4",
            "sku-3");
  }

  @Test
  void refusesAnEventOfAnotherCustomer() {
    assertThatThrownBy(
            () ->
                CustomerProfile.empty("c-1")
                    .apply(new CustomerEvent("c-2", EventType.VIEW, 1, null, 0)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("c-2")
        .hasMessageContaining("c-1");
  }

  @Test
  void failsInsteadOfWrappingWhenSpendOverflows() {
    CustomerProfile rich =
        CustomerProfile.empty("c-1").apply(event(EventType.ORDER, 1, null, Long.MAX_VALUE));

    assertThatThrownBy(() -> rich.apply(event(EventType.ORDER, 2, null, 1)))
        .isInstanceOf(ArithmeticException.class);
  }

  @Test
  void theEmptyProfileShowsNullTimesInJsonAndReadsBack() {
    CustomerProfile empty = CustomerProfile.empty("c-9");
    byte[] json = CustomerProfileSerde.toJson(empty);

    assertThat(new String(json, StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"customerId\":\"c-9\",\"counts\":{\"view\":0,\"cart\":0,\"order\":0,\"return\":0},"
                + "\"orders\":0,\"totalSpend\":0.00,\"totalSpendCents\":0,\"firstSeen\":null,"
                + "\"lastSeen\":null,\"lastSkus\":[]}");
    assertThat(CustomerProfileSerde.fromJson(json)).isEqualTo(empty);
  }

  @Test
  void writesTheDocumentedJson() {
    CustomerProfile profile =
        fold(event(EventType.ORDER, 1000, "sku-7", 1234), event(EventType.VIEW, 2000, "sku-1", 0));

    assertThat(new String(CustomerProfileSerde.toJson(profile), StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"customerId\":\"c-1\",\"counts\":{\"view\":1,\"cart\":0,\"order\":1,\"return\":0},"
                + "\"orders\":1,\"totalSpend\":12.34,\"totalSpendCents\":1234,\"firstSeen\":1000,"
                + "\"lastSeen\":2000,\"lastSkus\":[\"sku-1\",\"sku-7\"]}");
  }

  @Test
  void rejectsInconsistentProfilesWhenReading() {
    String tooManySkus =
        "{\"customerId\":\"c-1\",\"counts\":{\"view\":1,\"cart\":0,\"order\":0,\"return\":0},"
            + "\"totalSpendCents\":0,\"firstSeen\":1,\"lastSeen\":1,"
            + "\"lastSkus\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}";
    String noCounts = "{\"customerId\":\"c-1\",\"totalSpendCents\":0,\"lastSkus\":[]}";

    assertThatThrownBy(() -> CustomerProfileSerde.fromJson(utf8(tooManySkus)))
        .hasMessageContaining("lastSkus");
    assertThatThrownBy(() -> CustomerProfileSerde.fromJson(utf8(noCounts)))
        .hasMessageContaining("counts");
  }

  private static CustomerProfile fold(CustomerEvent... events) {
    CustomerProfile profile = CustomerProfile.empty("c-1");
    for (CustomerEvent event : List.of(events)) {
      profile = profile.apply(event);
    }
    return profile;
  }

  private static CustomerEvent event(EventType type, long ts, String sku, long cents) {
    return new CustomerEvent("c-1", type, ts, sku, cents);
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
