package dev.backbone.examples.stores;

import dev.backbone.store.internals.ForwardingProducer;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * A real transactional producer whose {@code commitTransaction()} times out when told to, with the
 * outcome left open as Kafka's client leaves it: the transaction is still open on the broker, and
 * until the same call is retried every other transactional call throws {@link
 * IllegalStateException}, as {@code TransactionManager#throwIfPendingState} and {@code
 * #handleCachedTransactionRequestResult} do. A retry commits for real. An empty {@code
 * sendOffsetsToTransaction} returns at once, as {@code KafkaProducer} skips it.
 */
final class TimingOutProducer extends ForwardingProducer {
  private final CommitTimeouts timeouts;
  private volatile boolean commitPending;

  TimingOutProducer(Producer<byte[], byte[]> delegate, CommitTimeouts timeouts) {
    super(delegate);
    this.timeouts = timeouts;
  }

  private void throwIfPending(String operation) {
    if (commitPending) {
      throw new IllegalStateException(
          "Cannot attempt operation `"
              + operation
              + "` because the previous call to `commitTransaction` timed out and must be retried");
    }
  }

  @Override
  public void commitTransaction() {
    if (commitPending) {
      timeouts.retried();
      // The retry consumes the pending result whatever it is, as TransactionManager's
      // handleCachedTransactionRequestResult does: a commit, or the error of a transaction the
      // broker aborted meanwhile (transaction.timeout.ms) — then the producer is in an error
      // state, not still "pending".
      try {
        delegate.commitTransaction();
      } finally {
        commitPending = false;
      }
      return;
    }
    if (timeouts.takeTimeout()) {
      delegate.flush(); // the records reach the broker; only the commit's answer is lost
      commitPending = true;
      throw new TimeoutException(
          "Timeout expired after 60000ms while awaiting EndTxn(true) (injected by the test)");
    }
    delegate.commitTransaction();
  }

  @Override
  public void abortTransaction() {
    throwIfPending("abortTransaction");
    delegate.abortTransaction();
  }

  @Override
  public void beginTransaction() {
    throwIfPending("beginTransaction");
    delegate.beginTransaction();
  }

  @Override
  public void sendOffsetsToTransaction(
      Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata groupMetadata) {
    if (offsets.isEmpty()) {
      return;
    }
    throwIfPending("sendOffsetsToTransaction");
    delegate.sendOffsetsToTransaction(offsets, groupMetadata);
  }

  @Override
  public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
    throwIfPending("send");
    return delegate.send(record, callback);
  }
}
