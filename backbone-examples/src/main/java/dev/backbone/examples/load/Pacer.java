package dev.backbone.examples.load;

/**
 * The send schedule of a paced run: event {@code n} is due {@code n / rate} seconds after the
 * start, computed from the start rather than accumulated, so rounding never drifts the rate.
 *
 * <p>Token-bucket behaviour: a sender that fell behind (the producer blocked) may catch up in a
 * burst, but only of up to {@value #BURST_MILLIS} ms worth of events; an older backlog is forgiven,
 * so a stall is followed by the target rate, not by a flood. Not thread-safe.
 */
final class Pacer {

  static final long BURST_MILLIS = 100;

  private final double nanosPerEvent; // 0 = unpaced
  private final long burstNanos;
  private long baseNanos;
  private long sentSinceBase;

  /**
   * @param eventsPerSecond target rate, 0 for no pacing
   * @param startNanos when the run starts, on the clock later passed to {@link #delayNanos}
   */
  Pacer(double eventsPerSecond, long startNanos) {
    this.nanosPerEvent = eventsPerSecond > 0 ? 1e9 / eventsPerSecond : 0;
    this.burstNanos = Math.max(BURST_MILLIS * 1_000_000L, (long) nanosPerEvent);
    this.baseNanos = startNanos;
  }

  /** How long to wait at {@code nowNanos} before the next send; 0 or less means send now. */
  long delayNanos(long nowNanos) {
    if (nanosPerEvent == 0) {
      return 0;
    }
    long due = baseNanos + (long) (sentSinceBase * nanosPerEvent);
    if (nowNanos - due > burstNanos) {
      baseNanos = nowNanos - burstNanos;
      sentSinceBase = 0;
      due = baseNanos;
    }
    return due - nowNanos;
  }

  /** Records that one event was sent. */
  void sent() {
    sentSinceBase++;
  }
}
