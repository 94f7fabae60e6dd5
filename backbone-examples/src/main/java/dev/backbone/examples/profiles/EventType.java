package dev.backbone.examples.profiles;

import java.util.Optional;

/** The kind of a shop event, with the lower-case name it has in JSON. */
public enum EventType {
  /** A product page was viewed. */
  VIEW("view"),
  /** A product was put into the cart. */
  CART("cart"),
  /** An order was placed; its amount adds to the total spend. */
  ORDER("order"),
  /** Goods were returned; the amount is subtracted from the total spend. */
  RETURN("return");

  private final String jsonName;

  EventType(String jsonName) {
    this.jsonName = jsonName;
  }

  /** The name in JSON: {@code view}, {@code cart}, {@code order} or {@code return}. */
  public String jsonName() {
    return jsonName;
  }

  /**
   * The type whose JSON name is exactly {@code name} (case-sensitive), or empty if there is none.
   */
  public static Optional<EventType> fromJsonName(String name) {
    for (EventType type : values()) {
      if (type.jsonName.equals(name)) {
        return Optional.of(type);
      }
    }
    return Optional.empty();
  }
}
