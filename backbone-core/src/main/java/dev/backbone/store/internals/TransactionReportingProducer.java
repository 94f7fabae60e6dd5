package dev.backbone.store.internals;

import dev.backbone.store.internals.StreamThreadTransactions.Outcome;
import java.time.Duration;
import org.apache.kafka.clients.producer.Producer;

/**
 * A transactional producer that records how each transaction of the calling thread ended ({@link
 * StreamThreadTransactions}), so that a Backbone store applies its writes only when they belong to
 * a transaction that committed.
 *
 * <h2>What must hold</h2>
 *
 * <ul>
 *   <li>{@link Outcome#COMMITTED} only after {@code commitTransaction()} returned normally: the
 *       transaction, its changelog records included, is then durable on the brokers.
 *   <li>A {@code commitTransaction()} that throws leaves the outcome {@link Outcome#UNKNOWN}, never
 *       "aborted": after a timeout Kafka's client allows only a retry of the same call ({@code
 *       TransactionManager#handleCachedTransactionRequestResult}), which Kafka Streams makes in
 *       {@code TaskManager#handleCorruption} for the tasks it did not mark corrupted, and which may
 *       well commit. The stores keep their writes until that is known.
 *   <li>{@link Outcome#ABORTED} only after {@code abortTransaction()} returned, or when the
 *       producer closes with a transaction open (the broker aborts it).
 * </ul>
 */
public final class TransactionReportingProducer extends ForwardingProducer {

  /** Wraps {@code delegate}, a transactional producer. */
  public TransactionReportingProducer(Producer<byte[], byte[]> delegate) {
    super(delegate);
  }

  @Override
  public void beginTransaction() {
    delegate.beginTransaction();
    StreamThreadTransactions.set(Outcome.OPEN);
  }

  @Override
  public void commitTransaction() {
    try {
      delegate.commitTransaction();
    } catch (RuntimeException e) {
      StreamThreadTransactions.set(Outcome.UNKNOWN);
      throw e;
    }
    StreamThreadTransactions.set(Outcome.COMMITTED);
  }

  @Override
  public void abortTransaction() {
    delegate.abortTransaction();
    StreamThreadTransactions.set(Outcome.ABORTED);
  }

  @Override
  public void close() {
    try {
      delegate.close();
    } finally {
      closed();
    }
  }

  @Override
  public void close(Duration timeout) {
    try {
      delegate.close(timeout);
    } finally {
      closed();
    }
  }

  /**
   * A transaction still open at close never commits (the broker aborts it). One whose commit
   * already timed out stays unknown: the coordinator may have accepted the commit.
   */
  private void closed() {
    if (StreamThreadTransactions.current() == Outcome.OPEN) {
      StreamThreadTransactions.set(Outcome.ABORTED);
    }
  }
}
