package dev.backbone.examples.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.FatalBackboneException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class EventStreamTest {

  private final LoadGenerator generator = new LoadGenerator();

  @Test
  void theSameSpecGivesTheSameEventsAndAnotherSeedOthers() {
    LoadSpec spec = LoadSpec.ofEvents(2000).withBadRatio(0.2).withSeed(11);

    List<GeneratedEvent> first = drain(generator.events(spec));
    List<GeneratedEvent> again = drain(new LoadGenerator().events(spec));
    List<GeneratedEvent> other = drain(generator.events(spec.withSeed(12)));

    assertThat(again).isEqualTo(first);
    assertThat(other).hasSize(2000).isNotEqualTo(first);
  }

  @Test
  void theIteratorViewYieldsTheSameRecordsForTheSpecsTopic() {
    LoadSpec spec = LoadSpec.ofEvents(50).withTopic("t").withBadRatio(0.3);
    List<GeneratedEvent> events = drain(generator.events(spec));

    EventStream stream = generator.events(spec);
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    stream.forEachRemaining(records::add);

    assertThat(records).hasSize(50);
    for (int i = 0; i < 50; i++) {
      assertThat(records.get(i).topic()).isEqualTo("t");
      assertThat(records.get(i).key()).isEqualTo(events.get(i).key());
      assertThat(records.get(i).value()).isEqualTo(events.get(i).value());
      assertThat(records.get(i).timestamp()).isNull();
    }
  }

  @Test
  void endsAfterTheTotalAndCountsTheBadEvents() {
    EventStream stream = generator.events(LoadSpec.ofEvents(300).withBadRatio(0.5));
    long bad = drain(stream).stream().filter(GeneratedEvent::isBad).count();

    assertThat(stream.hasNext()).isFalse();
    assertThat(stream.emitted()).isEqualTo(300);
    assertThat(stream.bad()).isEqualTo(bad);
    assertThatThrownBy(stream::nextEvent).isInstanceOf(NoSuchElementException.class);
  }

  @Test
  void aDurationBoundStreamNeverEnds() {
    EventStream stream = generator.events(LoadSpec.ofDuration(Duration.ofMillis(1)));
    for (int i = 0; i < 10_000; i++) {
      stream.nextEvent();
    }

    assertThat(stream.hasNext()).isTrue();
  }

  @Test
  void zipfSkewConcentratesOnLowIdsAndZeroSkewIsUniform() {
    LoadSpec spec = LoadSpec.ofEvents(20_000).withCustomers(1000);

    double skewedTop10 = shareOfTopTen(spec.withZipfSkew(1.0));
    double uniformTop10 = shareOfTopTen(spec.withZipfSkew(0));

    // Zipf(1) over 1000: H(10)/H(1000) = 0.39; uniform: 10/1000 = 0.01.
    assertThat(skewedTop10).isBetween(0.35, 0.43);
    assertThat(uniformTop10).isBetween(0.005, 0.02);
    Map<String, Integer> counts = customerCounts(spec.withZipfSkew(1.0));
    assertThat(counts.get("c-0")).isEqualTo(counts.values().stream().max(Integer::compare).get());
    assertThat(counts.get("c-0")).isGreaterThan(2 * counts.get("c-1") * 8 / 10);
  }

  @Test
  void handlesMillionsOfCustomers() {
    LoadSpec spec = LoadSpec.ofEvents(10_000).withCustomers(3_000_000).withZipfSkew(0.8);

    Map<String, Integer> counts = customerCounts(spec);

    assertThat(counts.keySet())
        .allSatisfy(id -> assertThat(Integer.parseInt(id.substring(2))).isBetween(0, 2_999_999));
    assertThat(customerCounts(spec.withZipfSkew(0)).keySet())
        .anySatisfy(id -> assertThat(Integer.parseInt(id.substring(2))).isGreaterThan(2_000_000));
  }

  @Test
  void badEventsFollowTheRatioAndComeInEveryKind() {
    List<GeneratedEvent> events =
        drain(generator.events(LoadSpec.ofEvents(20_000).withBadRatio(0.1)));
    Map<BadEventKind, Integer> kinds = new EnumMap<>(BadEventKind.class);
    events.stream()
        .filter(GeneratedEvent::isBad)
        .forEach(e -> kinds.merge(e.badKind(), 1, Integer::sum));

    long bad = events.stream().filter(GeneratedEvent::isBad).count();
    // 20000 * 0.1 = 2000, sigma = 42: a 5-sigma band.
    assertThat(bad).isBetween(1790L, 2210L);
    assertThat(kinds).containsOnlyKeys(BadEventKind.values());
    kinds.values().forEach(n -> assertThat(n).isBetween(380, 620));
    assertThat(drain(generator.events(LoadSpec.ofEvents(500)))).noneMatch(GeneratedEvent::isBad);
    assertThat(drain(generator.events(LoadSpec.ofEvents(500).withBadRatio(1))))
        .allMatch(GeneratedEvent::isBad);
  }

  @Test
  void eventTimeAdvancesDeterministicallyWithTheRate() {
    List<GeneratedEvent> paced =
        drain(generator.events(LoadSpec.ofEvents(3).withEventsPerSecond(4)));

    assertThat(paced.get(0).value()).contains("\"ts\":" + EventStream.EPOCH_MILLIS + ",");
    assertThat(paced.get(2).value()).contains("\"ts\":" + (EventStream.EPOCH_MILLIS + 500) + ",");
  }

  @Test
  void refusesAnInvalidSpec() {
    assertThatThrownBy(() -> generator.events(LoadSpec.ofEvents(10).withCustomers(0)))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("customers must be >= 1, got 0");
  }

  private double shareOfTopTen(LoadSpec spec) {
    Map<String, Integer> counts = customerCounts(spec);
    int top = 0;
    for (int i = 0; i < 10; i++) {
      top += counts.getOrDefault("c-" + i, 0);
    }
    return top / (double) spec.totalEvents();
  }

  private Map<String, Integer> customerCounts(LoadSpec spec) {
    Map<String, Integer> counts = new HashMap<>();
    drain(generator.events(spec)).forEach(e -> counts.merge(e.key(), 1, Integer::sum));
    return counts;
  }

  private static List<GeneratedEvent> drain(EventStream stream) {
    List<GeneratedEvent> events = new ArrayList<>();
    while (stream.hasNext()) {
      events.add(stream.nextEvent());
    }
    return events;
  }
}
