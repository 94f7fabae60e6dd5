package dev.backbone.examples.load;

import dev.backbone.errors.FatalBackboneException;

/**
 * A load run lost events: the producer reported sends as failed, after retrying them for its whole
 * delivery timeout, so the topic holds fewer events than were generated. Code {@value #CODE}. The
 * run stopped at the first failure; {@link #report()} says what was acknowledged before it ended.
 */
public final class UndeliveredEventsException extends FatalBackboneException {
  /** The exception's {@link #code()}. */
  public static final String CODE = "EVENTS_NOT_DELIVERED";

  private static final long serialVersionUID = 1L;

  private final transient LoadReport report;

  /**
   * @param topic where the events were sent
   * @param report the run's final counts, {@code failed() > 0}
   * @param firstFailure what the producer reported for the first failed send
   */
  public UndeliveredEventsException(String topic, LoadReport report, Throwable firstFailure) {
    super(
        CODE,
        report.failed()
            + " of "
            + report.sent()
            + " events sent to topic "
            + topic
            + " were not acknowledged by Kafka and are lost ("
            + report.acknowledged()
            + " were); the run stopped at the first failure: "
            + firstFailure
            + ". Check that every partition of "
            + topic
            + " has a live leader and the brokers' logs, then run again.",
        firstFailure);
    this.report = report;
  }

  /** The run's final counts; null only after deserialization. */
  public LoadReport report() {
    return report;
  }
}
