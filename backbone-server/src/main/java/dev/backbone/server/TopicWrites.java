package dev.backbone.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Serializer;

/**
 * How a store fed by a topic is written through the HTTP API: {@code PUT
 * /v1/stores/{store}/keys/{key}} produces the value to {@code topic} under the key, {@code DELETE}
 * produces a tombstone; the stage's table then applies it as it applies every record of the topic.
 *
 * @param topic the topic the store's table reads
 * @param valueParser turns the request body (JSON) into a value; throws {@link
 *     IllegalArgumentException} for a body that is not a valid value (answered 400 {@code
 *     BAD_VALUE} with its message)
 * @param valueSerializer the serializer of the topic's values
 * @param <V> the value type
 */
public record TopicWrites<V>(
    String topic, Function<JsonNode, V> valueParser, Serializer<V> valueSerializer) {
  /** Checks that every component is present. */
  public TopicWrites {
    Objects.requireNonNull(topic, "the topic a store's writes go to");
    Objects.requireNonNull(valueParser, () -> "the value parser of writes to " + topic);
    Objects.requireNonNull(valueSerializer, () -> "the value serializer of writes to " + topic);
  }
}
