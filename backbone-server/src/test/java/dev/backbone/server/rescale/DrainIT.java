package dev.backbone.server.rescale;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.rescale.Drain;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Drain} on a real broker, with transactional input as an exactly-once ingest stage writes
 * it: a group whose committed offsets stop just before the commit markers (where a consumer that
 * read a transaction's last record but not its marker commits) is drained, and so is one that
 * stopped before an aborted transaction; a committed record past the committed offset is counted as
 * unprocessed, exactly, in its partition; a group that never committed has everything left.
 */
@BackboneKafkaCluster(brokers = 1)
class DrainIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static TestKafkaCluster kafka;

  @BeforeAll
  static void cluster(TestKafkaCluster cluster) {
    kafka = cluster;
  }

  @Test
  void offsetsJustBeforeTheMarkersAreDrainedAndALaterRecordIsCountedWhereItIs() throws Exception {
    String topic = kafka.uniqueName("drain-in");
    kafka.createTopic(topic, 3);
    Map<Integer, Long> lastRecord = new HashMap<>();
    try (KafkaProducer<String, String> producer = transactional("drain-tx-1")) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < 30; i++) {
        RecordMetadata m = producer.send(new ProducerRecord<>(topic, i % 3, "k" + i, "v")).get();
        lastRecord.merge(m.partition(), m.offset(), Math::max);
      }
      producer.commitTransaction();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, 2, "aborted", "v")).get();
      producer.abortTransaction();
    }
    String group = kafka.uniqueName("drain-group");
    Map<TopicPartition, OffsetAndMetadata> justBeforeMarkers = new HashMap<>();
    lastRecord.forEach(
        (p, offset) ->
            justBeforeMarkers.put(new TopicPartition(topic, p), new OffsetAndMetadata(offset + 1)));
    kafka.admin().alterConsumerGroupOffsets(group, justBeforeMarkers).all().get();

    Drain.State drained =
        Drain.check(kafka.admin(), kafka.bootstrapServers(), group, topic, TIMEOUT);
    assertThat(drained.drained()).as("%s", drained).isTrue();
    assertThat(drained.remaining()).isZero();
    assertThat(drained.ends().get(2))
        .as("the marker and the aborted transaction lie past the committed offset")
        .isGreaterThan(drained.committed().get(2));

    try (KafkaProducer<String, String> producer = transactional("drain-tx-2")) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, 1, "late-1", "v")).get();
      producer.send(new ProducerRecord<>(topic, 1, "late-2", "v")).get();
      producer.commitTransaction();
    }
    Drain.State behind =
        Drain.check(kafka.admin(), kafka.bootstrapServers(), group, topic, TIMEOUT);
    assertThat(behind.drained()).isFalse();
    assertThat(behind.unprocessed()).containsEntry(0, 0L).containsEntry(1, 2L).containsEntry(2, 0L);
    assertThat(behind.remaining()).isEqualTo(2);

    Drain.State never =
        Drain.check(
            kafka.admin(), kafka.bootstrapServers(), kafka.uniqueName("idle"), topic, TIMEOUT);
    assertThat(never.remaining()).isEqualTo(32);
    assertThat(never.committed()).containsEntry(0, -1L);
  }

  private static KafkaProducer<String, String> transactional(String id) {
    Properties props = kafka.clientProperties();
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, kafka.uniqueName(id));
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
  }
}
