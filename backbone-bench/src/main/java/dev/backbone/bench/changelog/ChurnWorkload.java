package dev.backbone.bench.changelog;

import java.util.BitSet;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The write stream of a stateful application's changelog under churn, hour by simulated hour: a key
 * space that grows (new customers every hour) and updates skewed towards recent keys, with a few
 * deletes. The same {@link Shape} always yields the same writes in the same order.
 *
 * <p>Each hour has exactly {@code keysPerHour + updatesPerHour} writes, spaced evenly over the
 * hour, inserts and updates interleaved at random. An insert writes the next new key. An update
 * picks an existing key by its recency rank (rank 1 is the newest key) from a bounded power law
 * with exponent {@code zipfExponent} (Zipf-like: rank r is chosen with probability about r^-s), so
 * recent customers are updated most while old ones still are now and then; with probability {@code
 * deletePercent}% the update is a delete (a tombstone, as Kafka Streams logs one for every {@code
 * delete}, present or not), otherwise it writes a new value (and brings a deleted key back). The
 * very first writes of a run, before any key exists, are inserts.
 */
final class ChurnWorkload {
  static final long HOUR_MS = 3_600_000L;

  /**
   * What to write.
   *
   * @param hours simulated hours
   * @param keysPerHour new keys per hour
   * @param updatesPerHour updates (and deletes) of existing keys per hour
   * @param deletePercent the share of updates that are deletes, 0 to 100
   * @param zipfExponent the skew of updates towards recent keys, above 0
   * @param seed the random seed
   */
  record Shape(
      int hours,
      long keysPerHour,
      long updatesPerHour,
      int deletePercent,
      double zipfExponent,
      long seed) {
    Shape {
      // Fields are not assigned yet in a compact constructor: name the parameters themselves.
      String given =
          String.format(
              Locale.ROOT,
              "hours=%d, keysPerHour=%d, updatesPerHour=%d, deletePercent=%d, zipfExponent=%s",
              hours,
              keysPerHour,
              updatesPerHour,
              deletePercent,
              zipfExponent);
      if (hours < 1 || keysPerHour < 1 || updatesPerHour < 0) {
        throw new IllegalArgumentException(
            "hours and keys per hour must be at least 1, updates per hour at least 0: " + given);
      }
      if (deletePercent < 0 || deletePercent > 100 || !(zipfExponent > 0)) {
        throw new IllegalArgumentException(
            "the delete percent must be 0 to 100 and the Zipf exponent above 0: " + given);
      }
      if ((long) hours * (keysPerHour + updatesPerHour) > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "at most " + Integer.MAX_VALUE + " writes per run (keys are indexed by int): " + given);
      }
    }

    long writesPerHour() {
      return keysPerHour + updatesPerHour;
    }
  }

  /** Receives the writes in order. */
  interface Sink {
    /**
     * One write.
     *
     * @param timestampMs the record's timestamp
     * @param key the key's index (0 is the first key inserted)
     * @param tombstone true for a delete
     */
    void write(long timestampMs, long key, boolean tombstone);
  }

  private final Shape shape;
  private final SplittableRandom random;
  private final BitSet live = new BitSet();
  private long created;

  ChurnWorkload(Shape shape) {
    this.shape = shape;
    this.random = new SplittableRandom(shape.seed());
  }

  /**
   * Writes simulated hour {@code hour} (0-based; call for 0, 1, 2, ... in order), its first write
   * at {@code startMs + hour * HOUR_MS}.
   */
  void writeHour(int hour, long startMs, Sink sink) {
    long hourStart = startMs + hour * HOUR_MS;
    long writes = shape.writesPerHour();
    long insertsLeft = shape.keysPerHour();
    for (long i = 0; i < writes; i++) {
      long timestamp = hourStart + i * HOUR_MS / writes;
      // Drawn against what is left of the hour, so every hour has exactly its inserts; the first
      // write of a run has no key to update, so it is one of them.
      boolean insert = random.nextLong(writes - i) < insertsLeft || created == 0;
      if (insert) {
        insertsLeft--;
        long key = created++;
        live.set((int) key);
        sink.write(timestamp, key, false);
        continue;
      }
      long key = created - recencyRank(created, shape.zipfExponent(), random.nextDouble());
      boolean delete = random.nextInt(100) < shape.deletePercent();
      live.set((int) key, !delete);
      sink.write(timestamp, key, delete);
    }
  }

  /** Keys written so far, deleted or not. */
  long keysCreated() {
    return created;
  }

  /** Keys whose last write was a value, not a tombstone. */
  long liveKeys() {
    return live.cardinality();
  }

  /**
   * A rank from 1 to {@code n} for a uniform {@code u} in [0, 1): the floor of a bounded power-law
   * (Pareto) variate on [1, n + 1) with density proportional to x^-s, by inverting its CDF. Rank r
   * then has probability proportional to the integral of x^-s over [r, r + 1), about r^-s.
   */
  static long recencyRank(long n, double s, double u) {
    double top = n + 1.0;
    double x =
        Math.abs(s - 1) < 1e-9
            ? Math.pow(top, u)
            : Math.pow(1 + u * (Math.pow(top, 1 - s) - 1), 1 / (1 - s));
    return Math.max(1, Math.min(n, (long) x));
  }
}
