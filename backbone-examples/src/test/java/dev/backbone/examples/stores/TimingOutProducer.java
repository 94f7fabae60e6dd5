package dev.backbone.examples.stores;

import java.time.Duration;
import java.util.List;
import java.util.Map;
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
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.metrics.KafkaMetric;

/**
 * A real transactional producer whose {@code commitTransaction()} times out when told to, with the
 * outcome left open as Kafka's client leaves it: the transaction is still open on the broker, and
 * until the same call is retried every other transactional call throws {@link
 * IllegalStateException}, as {@code TransactionManager#throwIfPendingState} and {@code
 * #handleCachedTransactionRequestResult} do. A retry commits for real. An empty {@code
 * sendOffsetsToTransaction} returns at once, as {@code KafkaProducer} skips it.
 */
final class TimingOutProducer implements Producer<byte[], byte[]> {
  private final Producer<byte[], byte[]> delegate;
  private final CommitTimeouts timeouts;
  private volatile boolean commitPending;

  TimingOutProducer(Producer<byte[], byte[]> delegate, CommitTimeouts timeouts) {
    this.delegate = delegate;
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
      delegate.commitTransaction();
      commitPending = false;
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
  public void initTransactions() {
    delegate.initTransactions();
  }

  @Override
  public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
    return send(record, null);
  }

  @Override
  public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
    throwIfPending("send");
    return delegate.send(record, callback);
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
    delegate.close();
  }

  @Override
  public void close(Duration timeout) {
    delegate.close(timeout);
  }
}
