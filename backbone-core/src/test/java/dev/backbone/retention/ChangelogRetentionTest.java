package dev.backbone.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.BackboneException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The guard and the settings of a bounded changelog. */
class ChangelogRetentionTest {

  @Test
  void aRetentionUnderThreeSnapshotIntervalsIsRefusedNamingTheLeastSafeOne() {
    assertThatThrownBy(() -> ChangelogRetention.check(Duration.ofHours(2), Duration.ofHours(1)))
        .isInstanceOf(BackboneException.class)
        .hasMessageContaining("retention of 2h is shorter than 3 snapshot intervals of 1h")
        .hasMessageContaining("at least 3h")
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("RETENTION_UNSAFE");
    ChangelogRetention.check(Duration.ofHours(3), Duration.ofHours(1));
  }

  @Test
  void aBoundedChangelogCompactsOnlyWhatItMayDeleteAndKeepsTombstonesAsLongAsItsRecords() {
    assertThat(ChangelogRetention.topicConfigs(Duration.ofHours(24), 3_600_000, 604_800_000))
        .containsEntry("cleanup.policy", "compact,delete")
        .containsEntry("retention.ms", "86400000")
        .containsEntry("retention.bytes", "-1")
        .containsEntry("min.compaction.lag.ms", "86400000")
        .containsEntry("delete.retention.ms", "86400000")
        .containsEntry("segment.ms", "8640000");
    assertThat(ChangelogRetention.topicConfigs(Duration.ofHours(1), 86_400_000, 60_000))
        .containsEntry("delete.retention.ms", "86400000")
        .as("a shorter segment roll is kept")
        .containsEntry("segment.ms", "60000");
  }
}
