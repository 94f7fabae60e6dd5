package dev.backbone.rescale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.rescale.RescalePlan.Step;
import java.time.Instant;
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
    assertThat(plan.log()).hasSize(9);
    RescalePlan confirmed = plan;
    assertThatThrownBy(() -> confirmed.advance(Step.ABORTED, "", NOW))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has ended");
  }

  @Test
  void aStepCannotBeSkippedOrRepeatedAndAnAbortComesOnlyBeforeTheResume() {
    RescalePlan drained =
        RescalePlan.begin("app", 2, 6, 3, NOW)
            .advance(Step.INGEST_PAUSED, "", NOW)
            .advance(Step.DRAINED, "", NOW);
    assertThat(drained.toGeneration()).isEqualTo(3);
    assertThatThrownBy(() -> drained.advance(Step.SPLIT, "", NOW))
        .hasMessageContaining("SPLIT cannot follow it");
    assertThatThrownBy(() -> drained.advance(Step.DRAINED, "", NOW))
        .hasMessageContaining("DRAINED cannot follow it");
    assertThat(drained.advance(Step.ABORTED, "operator", NOW).step()).isEqualTo(Step.ABORTED);
    RescalePlan resumed =
        drained
            .advance(Step.SNAPSHOTTED, "", NOW)
            .advance(Step.SPLIT, "", NOW)
            .advance(Step.CREATED, "", NOW);
    assertThat(resumed.advance(Step.ABORTED, "", NOW).step()).isEqualTo(Step.ABORTED);
    RescalePlan serving = resumed.advance(Step.SERVING, "", NOW);
    assertThatThrownBy(() -> serving.advance(Step.ABORTED, "", NOW))
        .hasMessageContaining("already runs");
    assertThatThrownBy(() -> serving.advance(Step.RESUMED, "", NOW).advance(Step.ABORTED, "", NOW))
        .hasMessageContaining("already runs");
  }
}
