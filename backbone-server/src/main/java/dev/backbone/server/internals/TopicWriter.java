package dev.backbone.server.internals;

import dev.backbone.errors.BackboneException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;
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
   * Sends one record without waiting: the future completes with where it was written, or with a
   * retriable {@code WRITE_FAILED} (refused, not written) or {@code WRITE_UNKNOWN} (it may have
   * been written), within the write timeout. Records sent in order to one partition are written in
   * that order (one idempotent producer).
   */
  CompletableFuture<RecordMetadata> send(String topic, byte[] key, byte[] value) {
    CompletableFuture<RecordMetadata> done = new CompletableFuture<>();
    try {
      producer()
          .send(
              new ProducerRecord<>(topic, key, value),
              (metadata, failure) -> {
                if (failure == null) {
                  done.complete(metadata);
                } else {
                  done.completeExceptionally(outcome(topic, failure));
                }
              });
    } catch (RuntimeException e) {
      // send() itself throws when it cannot even queue the record (no metadata for the topic in
      // max.block.ms, a record too large, a closed producer): it was not written.
      done.completeExceptionally(e instanceof BackboneException ? e : outcome(topic, notQueued(e)));
    }
    // The producer's delivery.timeout.ms already bounds the callback; this is the last guard.
    return done.orTimeout(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS)
        .exceptionallyCompose(
            failure ->
                CompletableFuture.failedFuture(
                    failure instanceof java.util.concurrent.TimeoutException
                        ? outcome(topic, new TimeoutException("no acknowledgement"))
                        : failure));
  }

  /**
   * What a failed send means for the caller. The javadoc of Kafka's producer {@code Callback}
   * splits the failures into non-retriable ones ("the message will never be sent": record too
   * large, invalid topic, unknown server error, ...) and {@link RetriableException}s; a retriable
   * one that reaches the callback outlived {@code delivery.timeout.ms}, and some of them (a {@link
   * TimeoutException}, {@code NotEnoughReplicasAfterAppendException}) can come after a broker
   * appended the record. So every retriable failure, and an {@link OutOfOrderSequenceException}
   * (the idempotent producer lost track of what it wrote), is reported as an unknown outcome; only
   * the others as not written.
   */
  private RuntimeException outcome(String topic, Throwable failure) {
    if (failure instanceof RetriableException || failure instanceof OutOfOrderSequenceException) {
      return HttpErrors.retriable(
          HttpErrors.WRITE_UNKNOWN,
          "The write to topic '"
              + topic
              + "' was not acknowledged within "
              + timeout.toMillis()
              + " ms ("
              + failure.getMessage()
              + "); it may or may not have been written. Repeating it is safe for a table,"
              + " which keeps the last value of a key.");
    }
    return HttpErrors.retriable(
        HttpErrors.WRITE_FAILED,
        "Kafka refused the write to topic '" + topic + "' (" + failure + "); it was not written.");
  }

  /** A failure of {@code send()} itself: the record never left this node. */
  private static Throwable notQueued(RuntimeException e) {
    return e instanceof RetriableException ? new KafkaException(e.getMessage(), e) : e;
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
