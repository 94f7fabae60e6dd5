package dev.backbone.examples.profiles;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * {@link CustomerEvent} as normalized JSON, the format of the keyed-events topic: {@code
 * {"customerId":"c-42","type":"order","ts":1732500000000,"sku":"sku-7","amount":19.99}}, with
 * {@code sku} left out when absent and {@code amount} always written with two decimals.
 *
 * <p>The normalized form is itself a valid input event, so reading goes through {@link
 * EventParser}: there is one definition of a valid event, and {@code fromJson(toJson(e))} equals
 * {@code e} for every event. Null maps to null both ways, as Kafka serdes expect.
 */
public final class CustomerEventSerde implements Serde<CustomerEvent> {

  /** Creates the serde; it is stateless and thread-safe. */
  public CustomerEventSerde() {}

  /** The normalized JSON of an event, or null for null. */
  public static byte[] toJson(CustomerEvent event) {
    if (event == null) {
      return null;
    }
    return Json.write(
        g -> {
          g.writeStartObject();
          g.writeStringField("customerId", event.customerId());
          g.writeStringField("type", event.type().jsonName());
          g.writeNumberField("ts", event.ts());
          if (event.sku() != null) {
            g.writeStringField("sku", event.sku());
          }
          g.writeNumberField("amount", event.amount());
          g.writeEndObject();
        });
  }

  /**
   * Reads an event written by {@link #toJson}, or null for null.
   *
   * @throws SerializationException if the bytes are not a valid event
   */
  public static CustomerEvent fromJson(byte[] json) {
    if (json == null) {
      return null;
    }
    ParsedEvent parsed = EventParser.parse(json, -1);
    if (parsed instanceof ParsedEvent.Valid valid) {
      return valid.event();
    }
    ParsedEvent.Invalid invalid = (ParsedEvent.Invalid) parsed;
    throw new SerializationException(
        "not a valid customer event (" + invalid.reason() + "): " + invalid.message());
  }

  @Override
  public Serializer<CustomerEvent> serializer() {
    return (topic, event) -> toJson(event);
  }

  @Override
  public Deserializer<CustomerEvent> deserializer() {
    return (topic, bytes) -> fromJson(bytes);
  }
}
