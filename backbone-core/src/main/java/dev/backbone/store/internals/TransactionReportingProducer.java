package dev.backbone.store.internals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.metrics.KafkaMetric;

/**
 * A transactional producer that tells {@link StreamThreadTransactions} how each transaction ended,
 * so Backbone stores can apply their writes at every exactly-once commit instead of only at Kafka
 * Streams' checkpoints.
 *
 * <h2>What must hold</h2>
 *
 * <ul>
 *   <li>A store's writes are applied only after {@code commitTransaction()} returned normally: the
 *       transaction is then durable on the brokers, its changelog records included.
 *   <li>The offsets reported with a commit are, per partition, the offset of the last record this
 *       transaction wrote, read from the send callbacks' {@link RecordMetadata} (the same value
 *       Kafka Streams' record collector passes to {@code commit(Map)}). {@code commitTransaction()}
 *       flushes and waits for every batch, and a batch fires its callbacks before its future
 *       completes, so every callback of the transaction has run when it returns.
 *   <li>An {@code abortTransaction()}, a failing {@code commitTransaction()} (outcome unknown:
 *       Kafka Streams then marks the tasks corrupted and restores them from the stores' last
 *       committed offsets, which is right whatever the brokers decided) and a {@code close()} with
 *       a transaction open all report "aborted": those writes are dropped.
 * </ul>
 *
 * The report runs on the thread that calls {@code commitTransaction()}, which under {@code
 * exactly_once_v2} is the StreamThread that made the writes.
 */
public final class TransactionReportingProducer implements Producer<byte[], byte[]> {
  private final Producer<byte[], byte[]> delegate;
  private final Map<TopicPartition, Long> written = new ConcurrentHashMap<>();
  private volatile Thread transactionThread;
  private volatile boolean closed;

  /** Wraps {@code delegate}, a transactional producer. */
  public TransactionReportingProducer(Producer<byte[], byte[]> delegate) {
    if (delegate == null) {
      throw new IllegalArgumentException("a producer to wrap is required");
    }
    this.delegate = delegate;
    StreamThreadTransactions.producerOpened();
  }

  @Override
  public void initTransactions() {
    delegate.initTransactions();
  }

  @Override
  public void beginTransaction() {
    delegate.beginTransaction();
    written.clear();
    transactionThread = Thread.currentThread();
  }

  @Override
  public void sendOffsetsToTransaction(
      Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata groupMetadata) {
    delegate.sendOffsetsToTransaction(offsets, groupMetadata);
  }

  @Override
  public void commitTransaction() {
    try {
      delegate.commitTransaction();
    } catch (RuntimeException e) {
      endTransaction();
      StreamThreadTransactions.aborted();
      throw e;
    }
    Map<TopicPartition, Long> offsets = Map.copyOf(written);
    endTransaction();
    StreamThreadTransactions.committed(offsets);
  }

  @Override
  public void abortTransaction() {
    try {
      delegate.abortTransaction();
    } finally {
      endTransaction();
      StreamThreadTransactions.aborted();
    }
  }

  private void endTransaction() {
    written.clear();
    transactionThread = null;
  }

  @Override
  public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
    return send(record, null);
  }

  @Override
  public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
    return delegate.send(
        record,
        (metadata, exception) -> {
          if (exception == null && metadata != null && metadata.hasOffset()) {
            written.merge(
                new TopicPartition(metadata.topic(), metadata.partition()),
                metadata.offset(),
                Math::max);
          }
          if (callback != null) {
            callback.onCompletion(metadata, exception);
          }
        });
  }

  @Override
  public void flush() {
    delegate.flush();
  }

  @Override
  public List<PartitionInfo> partitionsFor(String topic) {
    return delegate.partitionsFor(topic);
  }

  @Override
  public Map<MetricName, ? extends Metric> metrics() {
    return delegate.metrics();
  }

  @Override
  public void registerMetricForSubscription(KafkaMetric metric) {
    delegate.registerMetricForSubscription(metric);
  }

  @Override
  public void unregisterMetricFromSubscription(KafkaMetric metric) {
    delegate.unregisterMetricFromSubscription(metric);
  }

  @Override
  public Uuid clientInstanceId(Duration timeout) {
    return delegate.clientInstanceId(timeout);
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

  /** A transaction still open at close is never committed by this producer. */
  private void closed() {
    if (closed) {
      return;
    }
    closed = true;
    Thread open = transactionThread;
    endTransaction();
    StreamThreadTransactions.producerClosed();
    if (open != null) {
      StreamThreadTransactions.aborted(open);
    }
  }
}
