package dev.backbone.examples.load;

import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * One generated record.
 *
 * @param key the record key: the customer id, or null for an event without one
 * @param value the JSON (or deliberately broken) value
 * @param badKind what is wrong with it, or null for a valid event
 */
public record GeneratedEvent(String key, String value, BadEventKind badKind) {

  /** Whether this event must end in the dead-letter queue. */
  public boolean isBad() {
    return badKind != null;
  }

  /**
   * As a producer record for {@code topic}. The record timestamp is left to the producer (wall
   * clock): the event's {@code ts} lies in the past and as record time would let the brokers'
   * retention delete the records at once.
   */
  public ProducerRecord<String, String> toRecord(String topic) {
    return new ProducerRecord<>(topic, key, value);
  }
}
