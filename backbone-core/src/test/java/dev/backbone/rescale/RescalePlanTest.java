package dev.backbone.rescale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.rescale.RescalePlan.Step;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The order of a rescale's steps: forward one at a time, an abort only before SERVING. */
class RescalePlanTest {
  private static final Instant NOW = Instant.parse("2026-12-04T02:00:00Z");

  @Test
  void stepsGoForwardOneAtATimeToTheEndAndNothingFollowsTheEnd() {
    RescalePlan plan = RescalePlan.begin("app", 0, 6, 12, NOW);
    for (Step next : Step.values()) {
      if (next == Step.PLANNED || next == Step.ABORTED) {
        continue;
      }
      plan = plan.advance(next, "", NOW);
    }
    assertThat(plan.step()).isEqualTo(Step.CONFIRMED);
    assertThat(plan.log()).hasSize(11);
    RescalePlan confirmed = plan;
    assertThatThrownBy(() -> confirmed.advance(Step.ABORTED, "", NOW))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has ended");
  }

  @Test
  void aStepCannotBeSkippedOrRepeatedAndAnAbortComesOnlyBeforeServing() {
    RescalePlan split =
        RescalePlan.begin("app", 2, 3, 6, NOW)
            .advance(Step.SNAPSHOTTED, "", NOW)
            .advance(Step.SPLIT, "", NOW)
            .withBaseOffsets(List.of(10L, -1L, 7L));
    assertThat(split.toGeneration()).isEqualTo(3);
    assertThatThrownBy(() -> split.advance(Step.STARTED, "", NOW))
        .hasMessageContaining("STARTED cannot follow it");
    assertThatThrownBy(() -> split.advance(Step.SPLIT, "", NOW))
        .hasMessageContaining("SPLIT cannot follow it");
    assertThat(split.advance(Step.ABORTED, "operator", NOW).step()).isEqualTo(Step.ABORTED);
    RescalePlan caughtUp =
        split
            .advance(Step.CREATED, "", NOW)
            .advance(Step.STARTED, "", NOW)
            .advance(Step.INGEST_PAUSED, "", NOW)
            .advance(Step.DRAINED, "", NOW)
            .advance(Step.CAUGHT_UP, "", NOW);
    assertThat(caughtUp.baseOffsets()).containsExactly(10L, -1L, 7L);
    assertThat(caughtUp.advance(Step.ABORTED, "", NOW).step()).isEqualTo(Step.ABORTED);
    RescalePlan serving = caughtUp.advance(Step.SERVING, "", NOW);
    assertThatThrownBy(() -> serving.advance(Step.ABORTED, "", NOW))
        .hasMessageContaining("already runs");
    assertThatThrownBy(() -> serving.advance(Step.RESUMED, "", NOW).advance(Step.ABORTED, "", NOW))
        .hasMessageContaining("already runs");
  }

  @Test
  void theBaseOffsetsNameEveryOldPartition() {
    RescalePlan plan = RescalePlan.begin("app", 0, 3, 6, NOW);
    assertThat(plan.baseOffsets()).isEmpty();
    assertThatThrownBy(() -> plan.withBaseOffsets(List.of(1L, 2L)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("one base offset per old partition (3)");
  }
}
