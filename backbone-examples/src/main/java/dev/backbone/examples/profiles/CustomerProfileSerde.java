package dev.backbone.examples.profiles;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * {@link CustomerProfile} as JSON, the value format of the {@code customer-profiles} store and of
 * query answers:
 *
 * <pre>{@code
 * {"customerId":"c-42","counts":{"view":3,"cart":1,"order":2,"return":1},"orders":2,
 *  "totalSpend":12.34,"totalSpendCents":1234,"firstSeen":1732500000000,
 *  "lastSeen":1732500009000,"lastSkus":["sku-7","sku-1"]}
 * }</pre>
 *
 * <p>{@code totalSpend} (two decimals) and {@code orders} are written for readers and ignored on
 * reading: {@code totalSpendCents} and {@code counts} are the truth, so the two can never disagree
 * after a round trip. {@code firstSeen}/{@code lastSeen} are {@code null} for the empty profile.
 * Null maps to null both ways.
 */
public final class CustomerProfileSerde implements Serde<CustomerProfile> {

  /** Creates the serde; it is stateless and thread-safe. */
  public CustomerProfileSerde() {}

  /** The JSON of a profile, or null for null. */
  public static byte[] toJson(CustomerProfile profile) {
    if (profile == null) {
      return null;
    }
    return Json.write(
        g -> {
          g.writeStartObject();
          g.writeStringField("customerId", profile.customerId());
          g.writeObjectFieldStart("counts");
          for (EventType type : EventType.values()) {
            g.writeNumberField(type.jsonName(), profile.counts().of(type));
          }
          g.writeEndObject();
          g.writeNumberField("orders", profile.orders());
          g.writeNumberField("totalSpend", profile.totalSpend());
          g.writeNumberField("totalSpendCents", profile.totalSpendCents());
          if (profile.isEmpty()) {
            g.writeNullField("firstSeen");
            g.writeNullField("lastSeen");
          } else {
            g.writeNumberField("firstSeen", profile.firstSeen());
            g.writeNumberField("lastSeen", profile.lastSeen());
          }
          g.writeArrayFieldStart("lastSkus");
          for (String sku : profile.lastSkus()) {
            g.writeString(sku);
          }
          g.writeEndArray();
          g.writeEndObject();
        });
  }

  /**
   * Reads a profile written by {@link #toJson}, or null for null.
   *
   * @throws SerializationException naming the first missing or malformed field
   */
  public static CustomerProfile fromJson(byte[] json) {
    if (json == null) {
      return null;
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(json);
    } catch (IOException e) {
      throw new SerializationException("customer profile is not JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new SerializationException("customer profile is not a JSON object: " + Json.show(json));
    }
    try {
      JsonNode counts = required(root, "counts");
      JsonNode firstSeen = root.get("firstSeen");
      JsonNode lastSeen = root.get("lastSeen");
      JsonNode skus = required(root, "lastSkus");
      if (!skus.isArray()) {
        throw new SerializationException("lastSkus must be an array, got " + Json.show(skus));
      }
      List<String> lastSkus = new ArrayList<>();
      for (JsonNode sku : skus) {
        if (!sku.isTextual()) {
          throw new SerializationException("lastSkus must hold strings, got " + Json.show(sku));
        }
        lastSkus.add(sku.textValue());
      }
      return new CustomerProfile(
          text(root, "customerId"),
          new EventCounts(
              number(counts, EventType.VIEW.jsonName()),
              number(counts, EventType.CART.jsonName()),
              number(counts, EventType.ORDER.jsonName()),
              number(counts, EventType.RETURN.jsonName())),
          number(root, "totalSpendCents"),
          Json.absent(firstSeen) ? Long.MAX_VALUE : number(root, "firstSeen"),
          Json.absent(lastSeen) ? Long.MIN_VALUE : number(root, "lastSeen"),
          lastSkus);
    } catch (IllegalArgumentException e) {
      throw new SerializationException("customer profile is inconsistent: " + e.getMessage(), e);
    }
  }

  @Override
  public Serializer<CustomerProfile> serializer() {
    return (topic, profile) -> toJson(profile);
  }

  @Override
  public Deserializer<CustomerProfile> deserializer() {
    return (topic, bytes) -> fromJson(bytes);
  }

  private static JsonNode required(JsonNode parent, String field) {
    JsonNode node = parent.get(field);
    if (Json.absent(node)) {
      throw new SerializationException("customer profile lacks " + field);
    }
    return node;
  }

  private static String text(JsonNode parent, String field) {
    JsonNode node = required(parent, field);
    if (!node.isTextual()) {
      throw new SerializationException(field + " must be a string, got " + Json.show(node));
    }
    return node.textValue();
  }

  private static long number(JsonNode parent, String field) {
    JsonNode node = required(parent, field);
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw new SerializationException(field + " must be an integer, got " + Json.show(node));
    }
    return node.longValue();
  }
}
