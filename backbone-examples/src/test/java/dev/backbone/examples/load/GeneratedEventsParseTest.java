package dev.backbone.examples.load;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.examples.profiles.EventParser;
import dev.backbone.examples.profiles.ParsedEvent;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

/** The generator and the pipeline's parser agree on every event; jqwik prints the seed. */
class GeneratedEventsParseTest {

  @Property(tries = 60)
  void everyValidEventParsesAndEveryBadOneIsRejectedForItsReason(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 100_000) int customers,
      @ForAll @DoubleRange(min = 0, max = 3) double skew,
      @ForAll @DoubleRange(min = 0, max = 1) double badRatio,
      @ForAll @DoubleRange(min = 0, max = 1e6) double eventsPerSecond) {
    LoadSpec spec =
        LoadSpec.ofEvents(300)
            .withSeed(seed)
            .withCustomers(customers)
            .withZipfSkew(skew)
            .withBadRatio(badRatio)
            .withEventsPerSecond(eventsPerSecond);
    EventStream stream = new LoadGenerator().events(spec);

    while (stream.hasNext()) {
      GeneratedEvent event = stream.nextEvent();
      ParsedEvent parsed =
          EventParser.parse(
              event.value() == null ? null : event.value().getBytes(StandardCharsets.UTF_8), 1);
      if (event.isBad()) {
        assertThat(parsed)
            .as(event.value())
            .isInstanceOfSatisfying(
                ParsedEvent.Invalid.class,
                invalid ->
                    assertThat(invalid.reason()).isEqualTo(event.badKind().expectedReason()));
      } else {
        assertThat(parsed)
            .as(event.value())
            .isInstanceOfSatisfying(
                ParsedEvent.Valid.class,
                valid -> {
                  assertThat(valid.event().customerId()).isEqualTo(event.key());
                  assertThat(Integer.parseInt(event.key().substring(2)))
                      .isBetween(0, customers - 1);
                  assertThat(valid.event().ts()).isGreaterThanOrEqualTo(EventStream.EPOCH_MILLIS);
                });
      }
    }
  }
}
