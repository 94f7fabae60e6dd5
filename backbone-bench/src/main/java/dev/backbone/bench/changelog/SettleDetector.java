package dev.backbone.bench.changelog;

import java.time.Duration;
import java.util.Arrays;

/**
 * Decides from successive size samples of some topics, taken while nothing writes to them, when the
 * broker's retention and log cleaner are done with them.
 *
 * <p>Without writes a topic's size on the broker only shrinks, and it shrinks in steps: a segment
 * deleted by retention, or a cleaning pass swapped in. A pass that takes long shows as a long
 * stretch without a step, so a fixed quiet period is not enough. The topics count as settled once
 * none of them has shrunk for the longer of {@code minQuiet} and {@code gapFactor} times the
 * longest stretch seen so far between two steps (the first stretch starts at the first sample).
 * Growth would mean something still writes; it counts as a change too, so it never looks settled.
 */
final class SettleDetector {
  private final long minQuietMs;
  private final double gapFactor;
  private long[] last;
  private long lastChangeMs;
  private long longestGapMs;

  SettleDetector(Duration minQuiet, double gapFactor) {
    if (minQuiet.isNegative() || minQuiet.isZero() || !(gapFactor >= 1)) {
      throw new IllegalArgumentException(
          "the quiet period must be positive and the gap factor at least 1: "
              + minQuiet
              + ", "
              + gapFactor);
    }
    this.minQuietMs = minQuiet.toMillis();
    this.gapFactor = gapFactor;
  }

  /**
   * Takes one sample.
   *
   * @param nowMs when it was taken, on a clock that never goes back
   * @param sizes each topic's bytes, always in the same order
   * @return true once the topics are settled
   */
  boolean offer(long nowMs, long... sizes) {
    if (last == null) {
      last = sizes.clone();
      lastChangeMs = nowMs;
      return false;
    }
    if (sizes.length != last.length) {
      throw new IllegalArgumentException(
          "expected " + last.length + " sizes, got " + Arrays.toString(sizes));
    }
    if (!Arrays.equals(sizes, last)) {
      longestGapMs = Math.max(longestGapMs, nowMs - lastChangeMs);
      lastChangeMs = nowMs;
      last = sizes.clone();
      return false;
    }
    return nowMs - lastChangeMs >= quietMs();
  }

  /** How long the sizes must stay the same, as of now. */
  long quietMs() {
    return Math.max(minQuietMs, (long) Math.ceil(gapFactor * longestGapMs));
  }
}
