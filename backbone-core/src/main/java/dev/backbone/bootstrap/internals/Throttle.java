package dev.backbone.bootstrap.internals;

import java.util.concurrent.TimeUnit;

/**
 * A byte-rate limit shared by every transfer of one fetch: a token bucket refilled at {@code
 * bytesPerSecond}, holding at most one second of tokens, so a pause is not followed by a burst.
 * {@link #acquire} blocks the caller until its bytes may go. Zero means unlimited. (The JDK has no
 * rate limiter; Kafka's quota classes are broker internals; Guava's {@code RateLimiter} would bring
 * five jars for these few lines.)
 */
public final class Throttle {
  private final long bytesPerSecond;
  private double tokens;
  private long lastRefillNanos;

  /** A throttle at {@code bytesPerSecond}; 0 for none. */
  public Throttle(long bytesPerSecond) {
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException(
          "bytes per second must not be negative: " + bytesPerSecond);
    }
    this.bytesPerSecond = bytesPerSecond;
    this.tokens = bytesPerSecond;
    this.lastRefillNanos = System.nanoTime();
  }

  /** Waits until {@code bytes} may be sent. */
  public void acquire(int bytes) throws InterruptedException {
    if (bytesPerSecond == 0) {
      return;
    }
    long waitNanos;
    synchronized (this) {
      long now = System.nanoTime();
      tokens =
          Math.min(
              bytesPerSecond, tokens + (now - lastRefillNanos) * (double) bytesPerSecond / 1e9);
      lastRefillNanos = now;
      tokens -= bytes;
      waitNanos = tokens >= 0 ? 0 : (long) (-tokens * 1e9 / bytesPerSecond);
    }
    if (waitNanos > 0) {
      TimeUnit.NANOSECONDS.sleep(waitNanos);
    }
  }
}
