package dev.backbone.bootstrap;

import java.time.Duration;
import java.util.Locale;

/**
 * Whether a store that came back with old local state should copy a peer's snapshot or replay its
 * changelog tail: both estimated from figures the operator can set, the faster one chosen.
 *
 * <p>A replay costs {@code tail / replayRecordsPerSecond}: Kafka Streams' restore is CPU-bound in
 * the restore consumer and RocksDB (measured here about 200,000 records/s of 100-byte values,
 * {@code bin/backbone bench bootstrap}). A copy costs {@code localBytes / copyBytesPerSecond} plus
 * a fixed {@link #COPY_OVERHEAD}: the plan, the lend, the lender's first checksum pass and the gap
 * until Kafka Streams retries the store's {@code init()} (1.7-3.6 s measured at 1-2.4 GB). The
 * local state's size stands for the peer's: both hold the same task's data, at nearly the same
 * point.
 *
 * @param replayRecordsPerSecond changelog records replayed per second
 * @param copyBytesPerSecond snapshot bytes copied per second (the throttle, if lower)
 */
public record CopyOrReplay(long replayRecordsPerSecond, long copyBytesPerSecond) {
  /** What a copy costs besides its bytes. */
  public static final Duration COPY_OVERHEAD = Duration.ofSeconds(3);

  /** Checks the rates. */
  public CopyOrReplay {
    if (replayRecordsPerSecond <= 0 || copyBytesPerSecond <= 0) {
      throw new IllegalArgumentException(
          "rates must be positive, got "
              + replayRecordsPerSecond
              + " records/s and "
              + copyBytesPerSecond
              + " bytes/s");
    }
  }

  /**
   * The rates with a copy throttle applied.
   *
   * @param throttleBytesPerSecond the copy throttle, 0 for none
   */
  public CopyOrReplay throttled(long throttleBytesPerSecond) {
    return throttleBytesPerSecond > 0 && throttleBytesPerSecond < copyBytesPerSecond
        ? new CopyOrReplay(replayRecordsPerSecond, throttleBytesPerSecond)
        : this;
  }

  /**
   * The choice for one store.
   *
   * @param copy whether the copy is estimated faster
   * @param replaySeconds the estimated replay
   * @param copySeconds the estimated copy, overhead included
   */
  public record Choice(boolean copy, double replaySeconds, double copySeconds) {
    /** The estimates in words, for the log. */
    public String describe(long tailRecords, long localBytes) {
      return String.format(
          Locale.ROOT,
          "replaying its tail of %,d records takes ~%.1f s, copying ~%,d bytes ~%.1f s",
          tailRecords,
          replaySeconds,
          localBytes,
          copySeconds);
    }
  }

  /**
   * Estimates both ways.
   *
   * @param tailRecords changelog records after the local state's offset
   * @param localBytes bytes of the local state
   */
  public Choice choose(long tailRecords, long localBytes) {
    double replay = Math.max(0, tailRecords) / (double) replayRecordsPerSecond;
    double copy =
        Math.max(0, localBytes) / (double) copyBytesPerSecond + COPY_OVERHEAD.toMillis() / 1000.0;
    return new Choice(copy < replay, replay, copy);
  }
}
