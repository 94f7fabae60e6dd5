package dev.backbone.examples.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import dev.backbone.topics.WritableTopics;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;

/** The load generator against a real broker: what it reports is what the topic holds. */
@BackboneKafkaCluster(brokers = 1)
class LoadGeneratorIT {

  @Test
  void deliversEveryEventToATopicCreatedJustBefore(TestKafkaCluster kafka) {
    String topic = kafka.uniqueName("fresh");
    new WritableTopics(kafka.admin()).create(List.of(new NewTopic(topic, 12, (short) 1)));
    LoadSpec spec = LoadSpec.ofEvents(20_000).withTopic(topic).withBadRatio(0.01);

    LoadReport report;
    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      report = new LoadGenerator().run(spec, producer, null);
    }

    assertThat(report.failed()).isZero();
    assertThat(report.acknowledged()).isEqualTo(20_000);
    assertThat(report.acknowledgedValid()).isEqualTo(20_000 - report.bad());
    assertThat(kafka.endOffsetSum(topic)).isEqualTo(20_000);
  }

  @Test
  void stopsAtOnceNamingTheCountWhenTheBrokerRefusesEvents(TestKafkaCluster kafka) {
    String topic = kafka.uniqueName("refusing");
    kafka.createTopicRefusingWrites(topic, 3);
    LoadSpec spec =
        LoadSpec.ofDuration(Duration.ofMinutes(10)).withTopic(topic).withEventsPerSecond(1000);

    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      assertTimeoutPreemptively(
          Duration.ofSeconds(30),
          () ->
              assertThatThrownBy(() -> new LoadGenerator().run(spec, producer, null))
                  .isInstanceOfSatisfying(
                      UndeliveredEventsException.class,
                      e -> {
                        assertThat(e.report().failed()).isPositive();
                        assertThat(e.report().acknowledged())
                            .isEqualTo(e.report().sent() - e.report().failed());
                      })
                  .hasMessageContaining(
                      "events sent to topic " + topic + " were not acknowledged"));
    }
  }
}
