package dev.backbone.examples.profiles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest.ChangelogOffset;
import dev.backbone.store.SnapshotStore;
import dev.backbone.store.SnapshotStores;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under exactly-once, with the pipeline's settings ({@code BackboneStores.streamsSettings()}), a
 * running Backbone store persists its changelog offset at every transaction commit, not only when
 * Kafka Streams closes the task: its stored offset follows the last committed changelog record
 * while nothing is suspended, and a snapshot cut mid-run is accepted. {@code
 * statestore.uncommitted.max.bytes} is set low, so Kafka Streams also commits early on the stores'
 * uncommitted bytes, and those commits keep the pairs exact as well.
 */
@BackboneKafkaCluster(brokers = 1)
class ExactlyOnceStoreCommitIT {
  private static final int PARTITIONS = 2;
  private static final int CUSTOMERS = 200;

  @TempDir Path dir;
  private final SnapshotStores stores = new SnapshotStores();
  private KafkaStreams streams;

  @AfterEach
  void stop() {
    if (streams != null) {
      streams.close(Duration.ofSeconds(60));
    }
  }

  @Test
  void theStoreOffsetAdvancesAtEveryTransactionCommitWhileRunning(TestKafkaCluster kafka) {
    String appId = kafka.uniqueName("eos-commit");
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(
            new PipelineSettings(
                appId,
                appId + "-events",
                appId + "-dlq",
                PARTITIONS,
                (short) 1,
                StreamsConfig.EXACTLY_ONCE_V2,
                StoreKind.BACKBONE));
    pipeline.createTopics(kafka.admin());
    Properties base = kafka.clientProperties();
    base.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
    base.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    base.put(StreamsConfig.STATESTORE_UNCOMMITTED_MAX_BYTES_CONFIG, 64 * 1024L);
    base.put(SnapshotStores.CONFIG, stores);
    streams = new KafkaStreams(pipeline.stateTopology(), pipeline.stateProperties(base));
    List<KafkaStreams.State> transitions = new CopyOnWriteArrayList<>();
    streams.setStateListener((now, before) -> transitions.add(now));
    streams.start();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> streams.state() == KafkaStreams.State.RUNNING);
    int transitionsWhenRunning = transitions.size();
    String changelog = appId + "-" + CustomerProfilePipeline.PROFILE_STORE + "-changelog";

    Map<TopicPartition, Long> previous = new HashMap<>();
    for (int round = 0; round < 4; round++) {
      produce(kafka, pipeline.keyedEventsTopic(), round, 1_500);
      Map<TopicPartition, Long> inputEnd = kafka.endOffsets(pipeline.keyedEventsTopic());
      await("round " + round + ": stores persist the changelog's last committed offsets")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(250))
          .untilAsserted(
              () -> {
                assertThat(committedInput(kafka, appId)).isEqualTo(inputEnd);
                assertThat(storedOffsets(appId, changelog))
                    .isEqualTo(lastCommittedRecordOffsets(kafka, changelog));
              });
      Map<TopicPartition, Long> stored = storedOffsets(appId, changelog);
      previous.forEach((tp, offset) -> assertThat(stored.get(tp)).isGreaterThan(offset));
      previous = stored;

      // Mid-run: the store is not dirty, and its snapshot carries a committed offset.
      SnapshotStore store = store(appId, 0);
      Snapshot snapshot = store.snapshot(dir.resolve("snapshots-" + round));
      assertThat(snapshot.manifest().changelogOffsets())
          .extracting(ChangelogOffset::offset)
          .containsExactly(stored.get(new TopicPartition(changelog, 0)));
    }
    // Nothing was suspended or closed in between: only transaction commits moved the offsets.
    assertThat(transitions.subList(transitionsWhenRunning, transitions.size())).isEmpty();
    assertThat(streams.state()).isEqualTo(KafkaStreams.State.RUNNING);
  }

  /** Events of {@code count} customers' views; round r repeats every customer. */
  private static void produce(TestKafkaCluster kafka, String topic, int round, int count) {
    try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
      for (int i = 0; i < count; i++) {
        String customer = "c-" + (i % CUSTOMERS);
        producer.send(
            new ProducerRecord<>(
                topic,
                customer,
                "{\"customerId\":\""
                    + customer
                    + "\",\"type\":\"view\",\"ts\":"
                    + (round * 10_000L + i)
                    + ",\"sku\":\"sku-"
                    + i
                    + "\"}"));
      }
      producer.flush();
    }
  }

  /** Per changelog partition, the offset of its last committed record. */
  private static Map<TopicPartition, Long> lastCommittedRecordOffsets(
      TestKafkaCluster kafka, String changelog) {
    Map<TopicPartition, Long> last = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r :
        kafka.readAll(
            changelog,
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer(),
            Duration.ofSeconds(30))) {
      last.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::max);
    }
    return last;
  }

  /** The input offsets the application committed (in its transactions, under exactly-once). */
  private static Map<TopicPartition, Long> committedInput(TestKafkaCluster kafka, String appId)
      throws Exception {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    kafka
        .admin()
        .listConsumerGroupOffsets(appId)
        .partitionsToOffsetAndMetadata()
        .get()
        .forEach((tp, meta) -> offsets.put(tp, meta.offset()));
    return offsets;
  }

  private SnapshotStore store(String appId, int partition) {
    return stores
        .find(appId, new TaskId(0, partition), CustomerProfilePipeline.PROFILE_STORE)
        .orElseThrow(() -> new AssertionError("store of task 0_" + partition + " is not open"));
  }

  private Map<TopicPartition, Long> storedOffsets(String appId, String changelog) {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      TopicPartition tp = new TopicPartition(changelog, p);
      Long offset = store(appId, p).committedOffsets().get(tp);
      if (offset != null) {
        offsets.put(tp, offset);
      }
    }
    return offsets;
  }
}
