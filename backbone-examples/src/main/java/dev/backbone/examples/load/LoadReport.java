package dev.backbone.examples.load;

import java.time.Duration;

/**
 * What a load run did, at its end or (for {@link LoadProgressListener}) so far.
 *
 * @param sent events handed to the producer
 * @param bad malformed events among them: the DLQ count to expect when {@code failed} is 0
 * @param failed sends the producer reported as failed (counted once their callbacks ran; exact in
 *     the final report, which is made after a flush)
 * @param elapsed time since the run started
 * @param eventsPerSecond achieved rate, {@code sent / elapsed}
 */
public record LoadReport(
    long sent, long bad, long failed, Duration elapsed, double eventsPerSecond) {

  static LoadReport of(long sent, long bad, long failed, long elapsedNanos) {
    double seconds = elapsedNanos / 1e9;
    return new LoadReport(
        sent, bad, failed, Duration.ofNanos(elapsedNanos), seconds > 0 ? sent / seconds : 0);
  }
}
