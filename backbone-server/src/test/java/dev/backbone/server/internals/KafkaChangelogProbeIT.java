package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The lender's view of a changelog on a real broker, written as an exactly-once task writes it:
 * committed and aborted transactions, their markers, and one still open.
 */
@BackboneKafkaCluster(brokers = 1)
class KafkaChangelogProbeIT {

  private static KafkaChangelogProbe probe(TestKafkaCluster kafka) {
    Map<String, Object> configs = new HashMap<>();
    kafka.clientProperties().forEach((k, v) -> configs.put((String) k, v));
    return new KafkaChangelogProbe(kafka::admin, () -> configs);
  }

  private static KafkaProducer<String, String> transactional(TestKafkaCluster kafka, String id) {
    Properties props = kafka.clientProperties();
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    producer.initTransactions();
    return producer;
  }

  @Test
  void findsTheLastCommittedRecordOfARangeAndSeesThroughMarkersAndAbortedRecords(
      TestKafkaCluster kafka) {
    String topic = kafka.uniqueName("changelog");
    kafka.createTopic(topic, 1);
    TopicPartition tp = new TopicPartition(topic, 0);
    KafkaChangelogProbe probe = probe(kafka);
    try (KafkaProducer<String, String> producer = transactional(kafka, topic + "-tx")) {
      producer.beginTransaction(); // offsets 0, 1, 2, commit marker 3
      for (int i = 0; i < 3; i++) {
        producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v"));
      }
      producer.commitTransaction();
      producer.beginTransaction(); // offsets 4, 5 aborted, abort marker 6
      producer.send(new ProducerRecord<>(topic, 0, "a", "x"));
      producer.send(new ProducerRecord<>(topic, 0, "b", "x"));
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction(); // offset 7, commit marker 8
      producer.send(new ProducerRecord<>(topic, 0, "k7", "v"));
      producer.commitTransaction();

      // The coordinator writes the last commit marker (offset 8) after commitTransaction returns.
      await("the last commit marker is in the log")
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(probe.endOffsets(Set.of(tp))).containsEntry(tp, 9L));
      Duration second = Duration.ofSeconds(10);
      assertThat(probe.lastRecordBetween(tp, 0, 9, second)).hasValue(7);
      assertThat(probe.lastRecordBetween(tp, 0, 3, second)).hasValue(2);
      assertThat(probe.lastRecordBetween(tp, 3, 7, second))
          .as("a marker, two aborted records and another marker: nothing a standby applies")
          .isEmpty();
      assertThat(probe.lastRecordBetween(tp, 8, 9, second)).isEqualTo(OptionalLong.empty());

      producer.beginTransaction(); // offset 9, left open
      producer.send(new ProducerRecord<>(topic, 0, "k9", "v"));
      producer.flush();
      assertThatThrownBy(() -> probe.lastRecordBetween(tp, 8, 10, Duration.ofMillis(1_500)))
          .as("an open transaction below the end cannot be judged yet")
          .hasMessageContaining("an open transaction below 10");
      producer.commitTransaction();
      assertThat(probe.lastRecordBetween(tp, 8, 10, second)).hasValue(9);
    }
  }

  @Test
  void aRangeBelowTheLogStartFailsInsteadOfReadingFromElsewhere(TestKafkaCluster kafka)
      throws Exception {
    String topic = kafka.uniqueName("truncated");
    kafka.createTopic(topic, 1);
    TopicPartition tp = new TopicPartition(topic, 0);
    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      for (int i = 0; i < 5; i++) {
        producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v")).get();
      }
    }
    kafka
        .admin()
        .deleteRecords(Map.of(tp, org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(3)))
        .all()
        .get();
    assertThatThrownBy(() -> probe(kafka).lastRecordBetween(tp, 1, 5, Duration.ofSeconds(10)))
        .isInstanceOf(RuntimeException.class);
    assertThat(probe(kafka).lastRecordBetween(tp, 3, 5, Duration.ofSeconds(10))).hasValue(4);
  }
}
