package dev.backbone.examples.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.FatalBackboneException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LoadSpecTest {

  @Test
  void theFactoriesGiveValidSpecs() {
    assertThat(LoadSpec.ofEvents(10).problems()).isEmpty();
    assertThat(LoadSpec.ofDuration(Duration.ofSeconds(1)).problems()).isEmpty();
  }

  @Test
  void reportsEveryProblemAtOnce() {
    LoadSpec spec = new LoadSpec(" ", -1, 0, Double.NaN, 0, Duration.ZERO, 1, 1.5);

    assertThat(spec.problems())
        .containsExactly(
            "topic is required",
            "eventsPerSecond must be a finite number >= 0 (0 = as fast as possible), got -1.0",
            "customers must be >= 1, got 0",
            "zipfSkew must be a finite number >= 0 (0 = uniform), got NaN",
            "exactly one of totalEvents and duration is required, got totalEvents=0 and"
                + " duration=PT0S",
            "totalEvents must be >= 1, or -1 with a duration, got 0",
            "duration must be positive, got PT0S",
            "badRatio must be between 0 and 1, got 1.5");
    assertThatThrownBy(spec::validate)
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("topic is required")
        .hasMessageContaining("badRatio must be between 0 and 1")
        .satisfies(e -> assertThat(((FatalBackboneException) e).code()).isEqualTo("BAD_CONFIG"));
  }

  @Test
  void needsATotalOrADuration() {
    LoadSpec neither = LoadSpec.ofEvents(LoadSpec.UNBOUNDED);

    assertThat(neither.problems())
        .containsExactly(
            "exactly one of totalEvents and duration is required, got totalEvents=-1 and"
                + " duration=null");
  }

  @Test
  void rejectsInfiniteRatesAndNanRatios() {
    LoadSpec spec =
        LoadSpec.ofEvents(5).withEventsPerSecond(Double.POSITIVE_INFINITY).withBadRatio(Double.NaN);

    assertThat(spec.problems()).hasSize(2);
  }
}
