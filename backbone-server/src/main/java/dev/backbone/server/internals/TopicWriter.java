package dev.backbone.server.internals;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Produces the HTTP API's writes to the topics that feed writable stores.
 *
 * <p>What must hold: a write is reported as written only once every in-sync replica has it ({@code
 * acks=all}, idempotent, so a retried send is not duplicated), with the partition and offset the
 * broker gave it; anything else (a timeout, an unknown topic, a refused record) is reported as not
 * written, or, when the outcome cannot be known (a timeout after the send), as such: the caller may
 * repeat the write (a table write is idempotent for the same value) but is never told it failed
 * when it may have succeeded. One producer per node, created on the first write.
 */
final class TopicWriter implements AutoCloseable {
  private final String nodeId;
  private final Supplier<Map<String, Object>> configs;
  private final Duration timeout;
  private KafkaProducer<byte[], byte[]> producer;
  private boolean closed;

  TopicWriter(String nodeId, Supplier<Map<String, Object>> configs, Duration timeout) {
    this.nodeId = nodeId;
    this.configs = configs;
    this.timeout = timeout;
  }

  /**
   * Writes one record and waits for the broker's acknowledgement.
   *
   * @return where it was written
   * @throws dev.backbone.errors.RetriableBackboneException {@code WRITE_FAILED} when the broker
   *     refused it or did not acknowledge it in time (the message says which)
   */
  RecordMetadata write(String topic, byte[] key, byte[] value) {
    Future<RecordMetadata> sent = producer().send(new ProducerRecord<>(topic, key, value));
    try {
      return sent.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw HttpErrors.retriable(
          HttpErrors.WRITE_UNKNOWN,
          "The write to topic '"
              + topic
              + "' was not acknowledged within "
              + timeout.toMillis()
              + " ms; it may or may not have been written. Repeating it is safe: the table keeps"
              + " the last value of a key.");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw HttpErrors.retriable(
          HttpErrors.WRITE_FAILED,
          "Kafka refused the write to topic '" + topic + "' (" + cause + "); it was not written.");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw HttpErrors.retriable(
          HttpErrors.WRITE_UNKNOWN,
          "Interrupted waiting for the write to topic '" + topic + "'; it may have been written.");
    }
  }

  private synchronized KafkaProducer<byte[], byte[]> producer() {
    if (closed) {
      throw HttpErrors.retriable(HttpErrors.REBALANCING, "Node " + nodeId + " is closing.");
    }
    if (producer == null) {
      Map<String, Object> props = new HashMap<>(configs.get());
      props.put(ProducerConfig.CLIENT_ID_CONFIG, nodeId + "-http-writes");
      props.put(ProducerConfig.ACKS_CONFIG, "all");
      props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
      props.put(
          ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeout.toMillis(), 30_000));
      props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
      props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
      props.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
      producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
    return producer;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
    }
  }
}
