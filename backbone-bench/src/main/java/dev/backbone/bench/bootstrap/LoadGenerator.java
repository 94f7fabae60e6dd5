package dev.backbone.bench.bootstrap;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes {@code passes} updates of every one of {@code keys} keys to partition 0, each pass in its
 * own scrambled order, and computes the digest of the state the last pass leaves.
 */
final class LoadGenerator {
  private LoadGenerator() {}

  /** Records acknowledged by the broker, and the digest of the final value of every key. */
  record Produced(long records, StateDigest digest) {}

  static Produced produce(String bootstrap, String topic, long keys, int passes, PrintStream out) {
    AtomicReference<Exception> failure = new AtomicReference<>();
    AtomicLong acked = new AtomicLong();
    StateDigest digest = StateDigest.EMPTY;
    long step = coprimeStep(keys);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.LINGER_MS_CONFIG,
                20,
                ProducerConfig.BATCH_SIZE_CONFIG,
                1024 * 1024,
                ProducerConfig.BUFFER_MEMORY_CONFIG,
                256L * 1024 * 1024),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (int pass = 0; pass < passes; pass++) {
        long shift = (long) pass * 7919 % keys;
        for (long j = 0; j < keys; j++) {
          long i = Math.floorMod(j * step + shift, keys);
          byte[] key = key(i);
          byte[] value = value(i, pass);
          producer.send(
              new ProducerRecord<>(topic, 0, key, value),
              (m, e) -> {
                if (e != null) {
                  failure.compareAndSet(null, e);
                } else {
                  acked.incrementAndGet();
                }
              });
          if (pass == passes - 1) {
            digest = digest.plus(key, value);
          }
        }
        if (failure.get() != null) {
          break;
        }
        out.printf("  pass %d of %d sent%n", pass + 1, passes);
      }
      producer.flush();
    }
    if (failure.get() != null) {
      throw new IllegalStateException("Kafka failed a record of the load: " + failure.get());
    }
    return new Produced(acked.get(), digest);
  }

  /** A 16-byte key: 8 scrambled bytes (random insert order), then the index. */
  static byte[] key(long i) {
    return ByteBuffer.allocate(BootstrapBench.KEY_BYTES)
        .putLong(StateDigest.mix64(i))
        .putLong(i)
        .array();
  }

  /** 100 incompressible bytes, a function of the key and the pass. */
  static byte[] value(long i, int pass) {
    byte[] v = new byte[BootstrapBench.VALUE_BYTES];
    new SplittableRandom(i * 1_000_003L + pass).nextBytes(v);
    return v;
  }

  /** A step near 0.618 of {@code keys} with no common factor with it: j * step visits every key. */
  static long coprimeStep(long keys) {
    if (keys <= 2) {
      return 1;
    }
    long step = Math.max(1, (long) (keys * 0.6180339887));
    while (gcd(step, keys) != 1) {
      step++;
    }
    return step;
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a;
  }
}
