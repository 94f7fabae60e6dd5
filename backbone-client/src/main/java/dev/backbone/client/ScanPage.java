package dev.backbone.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;

/**
 * One page of a range or prefix scan, keys in the store's key order.
 *
 * @param items the keys and values
 * @param cursor the cursor of the next page; empty on the last page
 * @param position the merged position token of every partition read
 */
public record ScanPage(List<Item> items, Optional<String> cursor, String position) {
  /** Checks the components. */
  public ScanPage {
    items = List.copyOf(items);
  }

  /**
   * One key and its value.
   *
   * @param key the key
   * @param value the value as JSON
   * @param partition the partition that holds it
   */
  public record Item(String key, JsonNode value, int partition) {}
}
