package dev.backbone.examples.profiles;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/** Round trips of both serdes over arbitrary values; jqwik prints the seed of a failure. */
class SerdeRoundTripTest {

  private final CustomerEventSerde eventSerde = new CustomerEventSerde();
  private final CustomerProfileSerde profileSerde = new CustomerProfileSerde();

  @Property(tries = 500)
  void everyEventSurvivesTheSerde(@ForAll("events") CustomerEvent event) {
    byte[] json = eventSerde.serializer().serialize("t", event);

    assertThat(eventSerde.deserializer().deserialize("t", json)).isEqualTo(event);
  }

  @Property(tries = 500)
  void theNormalizedEventIsAValidInputEventWhateverTheRecordTimestamp(
      @ForAll("events") CustomerEvent event) {
    assertThat(EventParser.parse(CustomerEventSerde.toJson(event), 7))
        .isEqualTo(ParsedEvent.valid(event));
  }

  @Property(tries = 500)
  void everyProfileSurvivesTheSerde(@ForAll("profiles") CustomerProfile profile) {
    byte[] json = profileSerde.serializer().serialize("t", profile);

    assertThat(profileSerde.deserializer().deserialize("t", json)).isEqualTo(profile);
  }

  @Example
  void nullMapsToNull() {
    assertThat(eventSerde.serializer().serialize("t", null)).isNull();
    assertThat(eventSerde.deserializer().deserialize("t", null)).isNull();
    assertThat(profileSerde.serializer().serialize("t", null)).isNull();
    assertThat(profileSerde.deserializer().deserialize("t", null)).isNull();
  }

  @Provide
  Arbitrary<CustomerEvent> events() {
    return Combinators.combine(
            text(),
            Arbitraries.of(EventType.class),
            Arbitraries.longs().between(0, Long.MAX_VALUE),
            text().injectNull(0.3),
            Arbitraries.longs().between(0, Long.MAX_VALUE))
        .as(CustomerEvent::new);
  }

  @Provide
  Arbitrary<CustomerProfile> profiles() {
    Arbitrary<Long> count = Arbitraries.longs().between(0, Long.MAX_VALUE / 4);
    Arbitrary<EventCounts> counts =
        Combinators.combine(count, count, count, count)
            .as(EventCounts::new)
            .filter(c -> !c.equals(EventCounts.ZERO));
    Arbitrary<Long> firstSeen = Arbitraries.longs().between(0, Long.MAX_VALUE);
    Arbitrary<Long> spread = Arbitraries.longs().between(0, Long.MAX_VALUE);
    Arbitrary<List<String>> skus = text().list().ofMaxSize(CustomerProfile.MAX_LAST_SKUS);
    Arbitrary<CustomerProfile> nonEmpty =
        Combinators.combine(text(), counts, Arbitraries.longs(), firstSeen, spread, skus)
            .as(
                (id, c, spend, first, more, s) ->
                    new CustomerProfile(
                        id, c, spend, first, first + Math.min(more, Long.MAX_VALUE - first), s));
    return Arbitraries.frequencyOf(
        Tuple.of(20, nonEmpty), Tuple.of(1, text().map(CustomerProfile::empty)));
  }

  /** Non-blank strings, with quotes, backslashes, controls and non-ASCII that JSON must escape. */
  private static Arbitrary<String> text() {
    return Arbitraries.strings()
        .withCharRange('\u0000', '\u00ff')
        .withCharRange('\u0100', '\ud7ff')
        .withChars('"', '\\', '/')
        .ofMinLength(1)
        .ofMaxLength(16)
        .filter(s -> !s.isBlank());
  }
}
