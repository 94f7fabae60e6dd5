package dev.backbone.store.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.store.BackboneClientSupplier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** The registry of open transactions per thread, and what the reporting producer tells it. */
class StreamThreadTransactionsTest {
  private static final TopicPartition P0 = new TopicPartition("app-s-changelog", 0);
  private static final TopicPartition P1 = new TopicPartition("app-t-changelog", 3);

  /** Records the outcomes it is told. */
  static final class Recorder implements StreamThreadTransactions.Participant {
    final List<Object> outcomes = new ArrayList<>();
    RuntimeException failure;

    @Override
    public void transactionCommitted(Map<TopicPartition, Long> changelogEndOffsets) {
      outcomes.add(changelogEndOffsets);
      if (failure != null) {
        throw failure;
      }
    }

    @Override
    public void transactionAborted() {
      outcomes.add("aborted");
    }
  }

  private static TransactionReportingProducer producer(MockProducer<byte[], byte[]> kafka) {
    TransactionReportingProducer producer = new TransactionReportingProducer(kafka);
    producer.initTransactions();
    return producer;
  }

  private static MockProducer<byte[], byte[]> mock() {
    return MockKafkaProducers.create();
  }

  private static void send(TransactionReportingProducer producer, TopicPartition tp) {
    producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), new byte[1], new byte[1]));
  }

  @Test
  void reportsTheHighestOffsetWrittenPerPartitionOfEachTransactionOnCommit() {
    Recorder store = new Recorder();
    try (TransactionReportingProducer producer = producer(mock())) {
      producer.beginTransaction();
      StreamThreadTransactions.enlist(store);
      send(producer, P0);
      send(producer, P0);
      send(producer, P1);
      producer.commitTransaction();
      producer.beginTransaction();
      StreamThreadTransactions.enlist(store);
      send(producer, P0);
      producer.commitTransaction();
    }
    assertThat(store.outcomes).containsExactly(Map.of(P0, 1L, P1, 0L), Map.of(P0, 2L));
  }

  @Test
  void theUserCallbackStillRunsAfterTheOffsetIsRecorded() {
    List<Long> seen = new ArrayList<>();
    try (TransactionReportingProducer producer = producer(mock())) {
      producer.beginTransaction();
      producer.send(
          new ProducerRecord<>(P0.topic(), P0.partition(), new byte[1], new byte[1]),
          (metadata, e) -> seen.add(metadata.offset()));
      producer.commitTransaction();
    }
    assertThat(seen).containsExactly(0L);
  }

  @Test
  void aStoreIsToldOnlyOnceAndOnlyOfItsOwnThreadsTransaction() {
    Recorder store = new Recorder();
    try (TransactionReportingProducer producer = producer(mock())) {
      producer.beginTransaction();
      StreamThreadTransactions.enlist(store);
      producer.commitTransaction();
      producer.beginTransaction();
      producer.commitTransaction(); // the store wrote nothing in this one
    }
    assertThat(store.outcomes).containsExactly(Map.of());
    assertThat(StreamThreadTransactions.enlistedCount(Thread.currentThread())).isZero();
  }

  @Test
  void abortsAndFailedCommitsAreReportedAsAborted() {
    Recorder store = new Recorder();
    MockProducer<byte[], byte[]> kafka = mock();
    try (TransactionReportingProducer producer = producer(kafka)) {
      producer.beginTransaction();
      StreamThreadTransactions.enlist(store);
      send(producer, P0);
      producer.abortTransaction();
      producer.beginTransaction();
      StreamThreadTransactions.enlist(store);
      kafka.commitTransactionException = new IllegalStateException("fenced");
      assertThatThrownBy(producer::commitTransaction).hasMessage("fenced");
    }
    assertThat(store.outcomes).containsExactly("aborted", "aborted");
  }

  @Test
  void everyStoreIsCommittedEvenWhenOneFails() {
    Recorder failing = new Recorder();
    failing.failure = new IllegalStateException("disk full");
    Recorder healthy = new Recorder();
    try (TransactionReportingProducer producer = producer(mock())) {
      producer.beginTransaction();
      StreamThreadTransactions.enlist(failing);
      StreamThreadTransactions.enlist(healthy);
      assertThatThrownBy(producer::commitTransaction).hasMessage("disk full");
    }
    assertThat(healthy.outcomes).containsExactly(Map.of());
  }

  @Test
  void aForgottenStoreIsNotTold() {
    Recorder store = new Recorder();
    StreamThreadTransactions.enlist(store);
    StreamThreadTransactions.forget(store);
    StreamThreadTransactions.committed(Map.of(P0, 1L));
    assertThat(store.outcomes).isEmpty();
  }

  @Test
  void theClientSupplierIsRecognisedAsClassOrName() {
    assertThat(
            BackboneKeyValueStore.reportsTransactions(
                Map.of(StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG, BackboneClientSupplier.class)))
        .isTrue();
    assertThat(
            BackboneKeyValueStore.reportsTransactions(
                Map.of(
                    StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG,
                    BackboneClientSupplier.class.getName())))
        .isTrue();
    assertThat(
            BackboneKeyValueStore.reportsTransactions(
                Map.of(
                    StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG,
                    "org.apache.kafka.streams.processor.internals.DefaultKafkaClientSupplier")))
        .isFalse();
  }
}
