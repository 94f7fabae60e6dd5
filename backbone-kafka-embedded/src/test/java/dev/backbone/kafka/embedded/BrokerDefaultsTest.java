package dev.backbone.kafka.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BrokerDefaultsTest {

  @Test
  void aSingleBrokerReplicatesInternalTopicsOnceWithMinIsrOne() {
    assertThat(BrokerDefaults.replicationFactor(1)).isEqualTo(1);
    assertThat(BrokerDefaults.forBrokers(1))
        .containsEntry("offsets.topic.replication.factor", "1")
        .containsEntry("transaction.state.log.replication.factor", "1")
        .containsEntry("transaction.state.log.min.isr", "1")
        .containsEntry("share.coordinator.state.topic.replication.factor", "1")
        .containsEntry("share.coordinator.state.topic.min.isr", "1")
        .containsEntry("group.initial.rebalance.delay.ms", "0")
        .containsEntry("auto.create.topics.enable", "false")
        .doesNotContainKey("default.replication.factor");
  }

  @Test
  void twoBrokersReplicateTwiceButStillAcceptOneInSyncReplica() {
    assertThat(BrokerDefaults.forBrokers(2))
        .containsEntry("transaction.state.log.replication.factor", "2")
        .containsEntry("transaction.state.log.min.isr", "1");
  }

  @Test
  void threeOrMoreBrokersReplicateThreeTimesWithMinIsrTwo() {
    for (int brokers : new int[] {3, 7}) {
      assertThat(BrokerDefaults.replicationFactor(brokers)).isEqualTo(3);
      assertThat(BrokerDefaults.forBrokers(brokers))
          .containsEntry("offsets.topic.replication.factor", "3")
          .containsEntry("transaction.state.log.replication.factor", "3")
          .containsEntry("transaction.state.log.min.isr", "2");
    }
  }

  @Test
  void refusesAnEmptyCluster() {
    assertThatThrownBy(() -> BrokerDefaults.forBrokers(0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
