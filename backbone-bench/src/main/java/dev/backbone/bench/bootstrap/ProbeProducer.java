package dev.backbone.bench.bootstrap;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends one probe record every 10 ms to one partition, stamped with the time it was sent, until
 * {@link #stop()}: the processor that handles it records how late it was.
 */
final class ProbeProducer implements AutoCloseable {
  private static final long EVERY_MS = 10;
  private static final int KEYS = 64;

  private final KafkaProducer<byte[], byte[]> producer;
  private final Thread thread;
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private volatile boolean running = true;

  ProbeProducer(String bootstrap, String topic, int partition) {
    producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.LINGER_MS_CONFIG,
                0,
                ProducerConfig.ACKS_CONFIG,
                "all"),
            new ByteArraySerializer(),
            new ByteArraySerializer());
    thread =
        new Thread(
            () -> {
              long n = 0;
              while (running) {
                byte[] key = ("probe-" + (n % KEYS)).getBytes(StandardCharsets.UTF_8);
                byte[] value = ByteBuffer.allocate(8).putLong(n++).array();
                producer.send(
                    new ProducerRecord<>(topic, partition, System.currentTimeMillis(), key, value),
                    (m, e) -> {
                      if (e != null) {
                        failure.compareAndSet(null, e);
                      }
                    });
                try {
                  Thread.sleep(EVERY_MS);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "bench-probe");
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops sending; throws if Kafka failed a probe record (the stall figure would be wrong). */
  void stop() throws InterruptedException {
    running = false;
    thread.join();
    producer.flush();
    if (failure.get() != null) {
      throw new IllegalStateException("a probe record failed: " + failure.get(), failure.get());
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close();
  }
}
