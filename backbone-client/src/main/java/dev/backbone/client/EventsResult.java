package dev.backbone.client;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The answer of {@link BackboneClient#appendEvents}: one result per event, in the order sent.
 *
 * @param node the node that appended them
 * @param topic the Kafka topic
 * @param written how many events were written
 * @param failed how many were not, or may not have been
 * @param results one per event
 */
public record EventsResult(
    String node, String topic, int written, int failed, List<Event> results) {

  /**
   * What became of one event.
   *
   * @param index its place in the batch, from 0
   * @param key its key, when it had one
   * @param partition where it was written
   * @param offset its offset there
   * @param error the API code when it was not surely written: {@code BAD_EVENT} (refused: fix it),
   *     {@code WRITE_FAILED} (not written: safe to send again), {@code WRITE_UNKNOWN} (it may have
   *     been written: sending it again may count it twice)
   * @param message what happened, for a failed event
   */
  public record Event(
      int index,
      Optional<String> key,
      OptionalInt partition,
      OptionalLong offset,
      Optional<String> error,
      Optional<String> message) {
    /** Whether the broker acknowledged the event. */
    public boolean written() {
      return error.isEmpty();
    }
  }
}
