package dev.backbone.store.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.store.internals.StreamThreadTransactions.Outcome;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the reporting producer tells the calling thread about its transactions. Kafka's {@link
 * MockProducer} leaves a transaction open when {@code commitTransaction()} throws, so the same call
 * can be retried, as {@code KafkaProducer} allows after a timeout.
 */
class TransactionReportingProducerTest {
  MockProducer<byte[], byte[]> kafka;
  TransactionReportingProducer producer;
  ExecutorService otherThread;

  @BeforeEach
  void open() {
    kafka = MockKafkaProducers.create();
    producer = new TransactionReportingProducer(kafka);
    producer.initTransactions();
    otherThread = Executors.newSingleThreadExecutor();
  }

  @AfterEach
  void close() throws InterruptedException {
    otherThread.shutdownNow();
    otherThread.awaitTermination(10, TimeUnit.SECONDS);
    if (!kafka.closed()) {
      producer.close();
    }
  }

  @Test
  void aCommitThatReturnsIsCommittedAndEndsATransaction() {
    long before = StreamThreadTransactions.ended();
    producer.beginTransaction();
    assertThat(StreamThreadTransactions.current()).isEqualTo(Outcome.OPEN);
    producer.commitTransaction();
    assertThat(StreamThreadTransactions.current()).isEqualTo(Outcome.COMMITTED);
    assertThat(StreamThreadTransactions.ended()).isEqualTo(before + 1);
  }

  @Test
  void aCommitThatTimesOutIsUnknownUntilItsRetryReturns() {
    long before = StreamThreadTransactions.ended();
    producer.beginTransaction();
    kafka.commitTransactionException = new TimeoutException("EndTxn timed out");
    assertThatThrownBy(producer::commitTransaction).isInstanceOf(TimeoutException.class);
    assertThat(StreamThreadTransactions.current()).isEqualTo(Outcome.UNKNOWN);
    assertThat(StreamThreadTransactions.ended())
        .as("not ended: it may still commit")
        .isEqualTo(before);

    kafka.commitTransactionException = null;
    producer.commitTransaction();
    assertThat(StreamThreadTransactions.current()).isEqualTo(Outcome.COMMITTED);
    assertThat(StreamThreadTransactions.ended()).isEqualTo(before + 1);
    assertThat(kafka.transactionCommitted()).isTrue();
  }

  @Test
  void anAbortEndsTheTransactionAsAborted() {
    long before = StreamThreadTransactions.ended();
    producer.beginTransaction();
    producer.abortTransaction();
    assertThat(StreamThreadTransactions.current()).isEqualTo(Outcome.ABORTED);
    assertThat(StreamThreadTransactions.ended()).isEqualTo(before + 1);
  }

  @Test
  void aCloseWithATransactionOpenAbortsIt() {
    producer.beginTransaction();
    producer.close();
    assertThat(StreamThreadTransactions.current()).isEqualTo(Outcome.ABORTED);
  }

  @Test
  void aCloseAfterACommitTimedOutLeavesTheOutcomeUnknown() {
    producer.beginTransaction();
    kafka.commitTransactionException = new TimeoutException("EndTxn timed out");
    assertThatThrownBy(producer::commitTransaction).isInstanceOf(TimeoutException.class);
    producer.close();
    assertThat(StreamThreadTransactions.current()).isEqualTo(Outcome.UNKNOWN);
  }

  @Test
  void eachThreadSeesOnlyItsOwnTransactions() throws Exception {
    producer.beginTransaction();
    producer.commitTransaction();
    MockProducer<byte[], byte[]> otherKafka = MockKafkaProducers.create();
    Outcome seenThere =
        otherThread
            .submit(
                () -> {
                  Outcome before = StreamThreadTransactions.current();
                  try (TransactionReportingProducer other =
                      new TransactionReportingProducer(otherKafka)) {
                    other.initTransactions();
                    other.beginTransaction();
                  }
                  return before;
                })
            .get(30, TimeUnit.SECONDS);
    assertThat(seenThere).isEqualTo(Outcome.NONE);
    assertThat(StreamThreadTransactions.current()).isEqualTo(Outcome.COMMITTED);
  }
}
