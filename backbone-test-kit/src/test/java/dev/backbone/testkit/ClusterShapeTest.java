package dev.backbone.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.kafka.embedded.BrokerDefaults;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterShapeTest {

  @Test
  void usesBackbonesBrokerDefaultsPlusProductionFeatureVersions() {
    for (int brokers : new int[] {1, 3}) {
      Map<String, String> settings = new ClusterShape(brokers, List.of()).brokerSettings();
      assertThat(settings)
          .containsAllEntriesOf(BrokerDefaults.forBrokers(brokers))
          .containsEntry("unstable.api.versions.enable", "false")
          .containsEntry("unstable.feature.versions.enable", "false");
    }
    assertThat(new ClusterShape(3, List.of()).brokerSettings())
        .containsEntry("transaction.state.log.min.isr", "2");
  }

  @Test
  void givesEachBrokerItsRackAndTheControllerTheDefaultReplicationFactor() {
    ClusterShape shape = new ClusterShape(2, List.of("a", "b"));
    assertThat(shape.perNodeSettings())
        .isEqualTo(
            Map.of(
                0, Map.of("broker.rack", "a", "default.replication.factor", "2"),
                1, Map.of("broker.rack", "b")));
    assertThat(new ClusterShape(2, List.of()).perNodeSettings())
        .isEqualTo(Map.of(0, Map.of("default.replication.factor", "2"), 1, Map.of()));
  }

  @Test
  void shapesWithTheSameBrokersAndRacksAreEqualSoTheyShareACluster() {
    assertThat(new ClusterShape(3, List.of("a", "b", "c")))
        .isEqualTo(new ClusterShape(3, List.of("a", "b", "c")))
        .isNotEqualTo(new ClusterShape(3, List.of()));
    assertThat(ClusterShape.defaultShape()).isEqualTo(new ClusterShape(1, List.of()));
  }

  @Test
  void refusesShapesThatCannotBeBuilt() {
    assertThatThrownBy(() -> new ClusterShape(0, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one broker");
    assertThatThrownBy(() -> new ClusterShape(3, List.of("a", "b")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("one rack per broker");
    assertThatThrownBy(() -> new ClusterShape(1, List.of(" ")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("blank");
  }
}
