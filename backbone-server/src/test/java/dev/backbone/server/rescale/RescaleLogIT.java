package dev.backbone.server.rescale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.BackboneException;
import dev.backbone.rescale.RescaleLog;
import dev.backbone.rescale.RescalePlan;
import dev.backbone.rescale.RescalePlan.Step;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RescaleLog} on a real broker: a plan and its steps survive the coordinator (read back by
 * the next one), a second coordinator fences the first (whose next step is refused, recording
 * nothing), and a rescale cannot begin while one runs or with a bad target.
 */
@BackboneKafkaCluster(brokers = 1)
class RescaleLogIT {
  private static TestKafkaCluster kafka;

  @BeforeAll
  static void cluster(TestKafkaCluster cluster) {
    kafka = cluster;
  }

  private static RescaleLog open(String app) {
    Map<String, Object> configs = new HashMap<>();
    kafka.clientProperties().forEach((k, v) -> configs.put((String) k, v));
    return RescaleLog.open(kafka.admin(), configs, app, (short) 1, Clock.systemUTC());
  }

  @Test
  void aPlanAndItsStepsAreReadBackByTheNextCoordinator() {
    String app = kafka.uniqueName("rescale-log");
    try (RescaleLog log = open(app)) {
      assertThat(log.current()).isEmpty();
      RescalePlan plan = log.begin(0, 6, 12);
      assertThat(plan.step()).isEqualTo(Step.PLANNED);
      log.advance(Step.SNAPSHOTTED, "6 snapshots");
      log.advance(Step.SPLIT, "12 partitions staged", List.of(3L, 4L, 5L, 6L, 7L, -1L));
    }
    try (RescaleLog next = open(app)) {
      RescalePlan read = next.current().orElseThrow();
      assertThat(read.step()).isEqualTo(Step.SPLIT);
      assertThat(read.baseOffsets()).containsExactly(3L, 4L, 5L, 6L, 7L, -1L);
      assertThat(read.fromPartitions()).isEqualTo(6);
      assertThat(read.toPartitions()).isEqualTo(12);
      assertThat(read.toGeneration()).isEqualTo(1);
      assertThat(read.log()).hasSize(3);
      assertThat(read.log().get(2)).contains("SPLIT 12 partitions staged");
      assertThatThrownBy(() -> next.begin(0, 6, 8))
          .isInstanceOf(BackboneException.class)
          .hasMessageContaining("is at step SPLIT")
          .hasMessageContaining("--resume");
    }
  }

  @Test
  void aSecondCoordinatorFencesTheFirstWhichRecordsNothingMore() {
    String app = kafka.uniqueName("rescale-fence");
    try (RescaleLog first = open(app)) {
      first.begin(0, 4, 2);
      try (RescaleLog second = open(app)) {
        assertThat(second.current().orElseThrow().step()).isEqualTo(Step.PLANNED);
        assertThatThrownBy(() -> first.advance(Step.SNAPSHOTTED, "from the fenced one"))
            .isInstanceOf(BackboneException.class)
            .hasMessageContaining("another rescale coordinator");
        second.advance(Step.SNAPSHOTTED, "from the new one");
      }
    }
    try (RescaleLog third = open(app)) {
      RescalePlan read = third.current().orElseThrow();
      assertThat(read.step()).isEqualTo(Step.SNAPSHOTTED);
      assertThat(String.join("\n", read.log()))
          .contains("from the new one")
          .doesNotContain("from the fenced one");
    }
  }

  @Test
  void aRescaleToNoPartitionsOrToTheSameCountIsRefusedAndNothingIsRecorded() {
    String app = kafka.uniqueName("rescale-bad");
    try (RescaleLog log = open(app)) {
      assertThatThrownBy(() -> log.begin(0, 6, 0))
          .isInstanceOf(BackboneException.class)
          .hasMessageContaining("at least 1 target partition");
      assertThatThrownBy(() -> log.begin(0, 6, 6))
          .isInstanceOf(BackboneException.class)
          .hasMessageContaining("has 6 partitions already");
      assertThat(log.current()).isEmpty();
    }
    try (RescaleLog again = open(app)) {
      assertThat(again.current()).isEmpty();
    }
  }
}
