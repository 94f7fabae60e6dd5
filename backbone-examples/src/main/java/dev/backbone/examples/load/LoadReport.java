package dev.backbone.examples.load;

import java.time.Duration;

/**
 * What a load run did, at its end or (for {@link LoadProgressListener}) so far.
 *
 * @param sent events handed to the producer
 * @param bad malformed events among them
 * @param acknowledged events the brokers acknowledged (counted once their callbacks ran; exact in
 *     the final report, which is made after a flush)
 * @param acknowledgedBad malformed events among the acknowledged ones: the DLQ count to expect
 * @param failed sends the producer reported as failed, counted like {@code acknowledged}
 * @param elapsed time since the run started
 * @param eventsPerSecond achieved rate, {@code sent / elapsed}
 */
public record LoadReport(
    long sent,
    long bad,
    long acknowledged,
    long acknowledgedBad,
    long failed,
    Duration elapsed,
    double eventsPerSecond) {

  /**
   * Valid events the brokers acknowledged: what the pipeline's state stage will consume, and so the
   * most a benchmark may wait for.
   */
  public long acknowledgedValid() {
    return acknowledged - acknowledgedBad;
  }

  static LoadReport of(
      long sent,
      long bad,
      long acknowledged,
      long acknowledgedBad,
      long failed,
      long elapsedNanos) {
    double seconds = elapsedNanos / 1e9;
    return new LoadReport(
        sent,
        bad,
        acknowledged,
        acknowledgedBad,
        failed,
        Duration.ofNanos(elapsedNanos),
        seconds > 0 ? sent / seconds : 0);
  }
}
