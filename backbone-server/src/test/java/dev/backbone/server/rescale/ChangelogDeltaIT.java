package dev.backbone.server.rescale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.BackboneException;
import dev.backbone.rescale.ChangelogDelta;
import dev.backbone.routing.KeyToTask;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ChangelogDelta} on a real broker, with an old changelog written the way an exactly-once
 * stage writes it (transactions, one aborted, tombstones, headers): exactly the committed records
 * after each partition's base offset arrive, each in the new partition the producer's partitioner
 * gives its key, in their original order, with key, value and timestamp unchanged and no header; a
 * copy made twice leaves every key's last record last; a key outside its partitioner's partition
 * and records deleted past a base offset are refused.
 */
@BackboneKafkaCluster(brokers = 1)
class ChangelogDeltaIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final int OLD = 3;
  private static final int NEW = 5;
  private static TestKafkaCluster kafka;

  @BeforeAll
  static void cluster(TestKafkaCluster cluster) {
    kafka = cluster;
  }

  private static Map<String, Object> client() {
    Map<String, Object> out = new HashMap<>();
    kafka.clientProperties().forEach((k, v) -> out.put(k.toString(), v));
    return out;
  }

  private static KafkaProducer<byte[], byte[]> transactional(String id) {
    Properties props = kafka.clientProperties();
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, kafka.uniqueName(id));
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static byte[] bytes(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  /** One record written to the old changelog, as the copy must reproduce it. */
  private record Written(String key, String value, long timestamp, int partition, long offset) {}

  @Test
  void theCommittedRecordsAfterEachBaseArriveInTheirKeysNewPartitionInOrderAndUnchanged()
      throws Exception {
    String from = kafka.uniqueName("delta-old-changelog");
    String to = kafka.uniqueName("delta-new-changelog");
    kafka.createTopic(from, OLD);
    kafka.createTopic(to, NEW);
    Random random = new Random(7);
    List<Written> committed = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = transactional("delta-tx")) {
      producer.initTransactions();
      for (int txn = 0; txn < 6; txn++) {
        producer.beginTransaction();
        List<Written> pending = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
          String key = "k-" + random.nextInt(25);
          String value = random.nextInt(8) == 0 ? null : "v-" + txn + "-" + i;
          long ts = 1_700_000_000_000L + txn * 1000L + i;
          int partition = KeyToTask.partition(bytes(key), OLD);
          RecordHeaders headers = new RecordHeaders();
          headers.add("v", new byte[] {1, 2, 3}); // as a consistency vector would be
          RecordMetadata m =
              producer
                  .send(
                      new ProducerRecord<>(from, partition, ts, bytes(key), bytes(value), headers))
                  .get();
          pending.add(new Written(key, value, ts, partition, m.offset()));
        }
        if (txn == 3) {
          producer.abortTransaction(); // never copied
        } else {
          producer.commitTransaction();
          committed.addAll(pending);
        }
      }
    }
    // Bases: partition 0 from its start (-1), the others from a record in the middle.
    List<Long> base = new ArrayList<>();
    for (int p = 0; p < OLD; p++) {
      int partition = p;
      List<Written> ofPartition = committed.stream().filter(w -> w.partition == partition).toList();
      base.add(p == 0 ? -1L : ofPartition.get(ofPartition.size() / 2).offset);
    }
    List<Written> expected =
        committed.stream().filter(w -> w.offset > base.get(w.partition)).toList();

    ChangelogDelta.Result result =
        ChangelogDelta.copy(kafka.admin(), client(), from, base, to, NEW, TIMEOUT);

    assertThat(result.records()).isEqualTo(expected.size());
    List<ConsumerRecord<byte[], byte[]>> copied =
        kafka.readAll(to, new ByteArrayDeserializer(), new ByteArrayDeserializer(), TIMEOUT);
    assertThat(copied).hasSize(expected.size());
    for (ConsumerRecord<byte[], byte[]> r : copied) {
      assertThat(r.partition()).isEqualTo(KeyToTask.partition(r.key(), NEW));
      assertThat(r.headers().toArray()).isEmpty();
    }
    // Per key, the same records in the same order with the same values and timestamps.
    Map<String, List<String>> expectedByKey = byKey(expected);
    Map<String, List<String>> copiedByKey = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : copied) {
      copiedByKey
          .computeIfAbsent(text(r.key()), k -> new ArrayList<>())
          .add(text(r.value()) + "@" + r.timestamp());
    }
    assertThat(copiedByKey).isEqualTo(expectedByKey);

    // Made again (a coordinator that died after the copy): every key still ends on its last
    // record, so a restore of the new changelog ends in the same state.
    ChangelogDelta.copy(kafka.admin(), client(), from, base, to, NEW, TIMEOUT);
    Map<String, String> last = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r :
        kafka.readAll(to, new ByteArrayDeserializer(), new ByteArrayDeserializer(), TIMEOUT)) {
      last.put(text(r.key()), text(r.value()) + "@" + r.timestamp());
    }
    Map<String, String> expectedLast = new HashMap<>();
    expectedByKey.forEach((k, values) -> expectedLast.put(k, values.get(values.size() - 1)));
    assertThat(last).isEqualTo(expectedLast);
  }

  private static Map<String, List<String>> byKey(List<Written> records) {
    Map<String, List<String>> out = new HashMap<>();
    for (Written w : records) {
      out.computeIfAbsent(w.key, k -> new ArrayList<>()).add(w.value + "@" + w.timestamp);
    }
    return out;
  }

  @Test
  void aKeyOutsideItsPartitionersPartitionIsRefusedNamingIt() throws Exception {
    String from = kafka.uniqueName("delta-misplaced");
    String to = kafka.uniqueName("delta-misplaced-new");
    kafka.createTopic(from, OLD);
    kafka.createTopic(to, NEW);
    String key = "k-misplaced";
    int wrong = (KeyToTask.partition(bytes(key), OLD) + 1) % OLD;
    try (KafkaProducer<byte[], byte[]> producer =
        kafka.producer(new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(from, wrong, bytes(key), bytes("v"))).get();
    }
    assertThatThrownBy(
            () ->
                ChangelogDelta.copy(
                    kafka.admin(), client(), from, List.of(-1L, -1L, -1L), to, NEW, TIMEOUT))
        .isInstanceOf(BackboneException.class)
        .hasMessageContaining(from + "-" + wrong + "@0")
        .hasMessageContaining("not keyed by its input key")
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("RESCALE_UNSUPPORTED");
  }

  @Test
  void recordsDeletedPastABaseOffsetFailTheCopyRatherThanBeSkipped() throws Exception {
    String from = kafka.uniqueName("delta-truncated");
    String to = kafka.uniqueName("delta-truncated-new");
    kafka.createTopic(from, 1);
    kafka.createTopic(to, NEW);
    try (KafkaProducer<byte[], byte[]> producer =
        kafka.producer(new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>(from, 0, bytes("k" + i), bytes("v"))).get();
      }
    }
    kafka
        .admin()
        .deleteRecords(Map.of(new TopicPartition(from, 0), RecordsToDelete.beforeOffset(6)))
        .all()
        .get();
    assertThatThrownBy(
            () -> ChangelogDelta.copy(kafka.admin(), client(), from, List.of(3L), to, NEW, TIMEOUT))
        .isInstanceOf(BackboneException.class)
        .hasMessageContaining("from offset 4 on")
        .hasMessageContaining("log starts at 6")
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("RESCALE_DELTA_TRUNCATED");
    // From the log's start on nothing is missing: the copy goes through.
    assertThat(
            ChangelogDelta.copy(kafka.admin(), client(), from, List.of(5L), to, NEW, TIMEOUT)
                .records())
        .isEqualTo(4);
  }
}
