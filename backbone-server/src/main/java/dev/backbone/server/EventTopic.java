package dev.backbone.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import java.util.function.Function;

/**
 * A topic the HTTP API appends events to: {@code POST /v1/events} takes a batch of JSON events and
 * produces each one, as its compact JSON text, to {@code topic} under the key {@code keyOf} finds
 * in it, so that it lands in the partition the application's own producers would have chosen.
 *
 * <p>The API checks only what it needs to produce an event (a JSON object with a key); what the
 * application makes of it (a bad type, a negative amount) is the pipeline's to judge, and a
 * malformed event goes to its dead-letter topic as any other would.
 *
 * @param name the name callers use ({@code POST /v1/events?topic=<name>}; with one event topic the
 *     parameter may be left out)
 * @param topic the Kafka topic
 * @param keyOf finds the key of an event; throws {@link IllegalArgumentException} for an event that
 *     has none, which is then refused (that event alone) with {@code BAD_EVENT} and the exception's
 *     message
 */
public record EventTopic(String name, String topic, Function<JsonNode, String> keyOf) {
  /** Checks that every component is present. */
  public EventTopic {
    Objects.requireNonNull(name, "an event topic needs a name");
    Objects.requireNonNull(topic, () -> "event topic '" + name + "' needs a Kafka topic");
    Objects.requireNonNull(keyOf, () -> "event topic '" + name + "' needs a key function");
  }

  /**
   * An event topic named as its Kafka topic whose events are JSON objects keyed by a text field,
   * e.g. {@code keyedBy("customer-events", "customerId")}.
   */
  public static EventTopic keyedBy(String topic, String keyField) {
    Objects.requireNonNull(keyField, "keyField");
    return new EventTopic(
        topic,
        topic,
        event -> {
          JsonNode key = event.get(keyField);
          if (key == null || !key.isTextual() || key.asText().isBlank()) {
            throw new IllegalArgumentException(
                "the event has no '" + keyField + "' (a non-blank string), its key");
          }
          return key.asText();
        });
  }
}
