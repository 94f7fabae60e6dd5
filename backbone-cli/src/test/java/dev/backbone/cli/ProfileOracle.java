package dev.backbone.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.testkit.ReadChecker;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * An independent model of the customer-profile rules, written from DESIGN.md and the documented
 * decisions (cents rounded half-up; returns subtract; first/last seen = min/max ts; last 10 SKUs
 * newest first), sharing no code with the pipeline it checks.
 *
 * <p>Besides each customer's final profile it keeps the profile after every prefix of the
 * customer's events, so a {@link dev.backbone.testkit.ReadChecker} can tell whether a profile
 * served on the way is legal ({@link #prefixesOf}): the profile after the first {@code k} events of
 * that customer, for some {@code k}, in production order (one customer's events share one partition
 * of each topic and keep their order through both stages).
 */
final class ProfileOracle implements ReadChecker.Oracle<JsonNode> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> TYPES = List.of("view", "cart", "order", "return");

  static final class Expected {
    final Map<String, Long> counts = new LinkedHashMap<>();
    long orders;
    long spendCents;
    long firstSeen = Long.MAX_VALUE;
    long lastSeen = Long.MIN_VALUE;
    final List<String> lastSkus = new ArrayList<>();

    Expected() {
      TYPES.forEach(t -> counts.put(t, 0L));
    }
  }

  private final Map<String, Expected> profiles = new LinkedHashMap<>();
  private final Map<String, List<String>> prefixes = new HashMap<>();
  private long malformed;

  /** Feeds one raw event value, in production order. */
  void accept(String value) {
    JsonNode e;
    try {
      e = JSON.readTree(value);
    } catch (Exception notJson) {
      malformed++;
      return;
    }
    if (e == null || !e.isObject()) {
      malformed++;
      return;
    }
    JsonNode id = e.get("customerId");
    JsonNode type = e.get("type");
    JsonNode amount = e.get("amount");
    JsonNode ts = e.get("ts");
    if (id == null
        || !id.isTextual()
        || id.asText().isBlank()
        || type == null
        || !TYPES.contains(type.asText())
        || (amount != null
            && !amount.isNull()
            && (!amount.isNumber() || amount.decimalValue().signum() < 0))
        || (ts != null && !ts.isIntegralNumber())) {
      malformed++;
      return;
    }
    if (ts == null) {
      throw new IllegalStateException("the oracle needs an explicit ts: " + value);
    }
    Expected p = profiles.computeIfAbsent(id.asText(), k -> new Expected());
    String t = type.asText();
    p.counts.merge(t, 1L, Long::sum);
    long cents =
        amount == null || amount.isNull()
            ? 0
            : amount
                .decimalValue()
                .setScale(2, RoundingMode.HALF_UP)
                .movePointRight(2)
                .longValueExact();
    if (t.equals("order")) {
      p.orders++;
      p.spendCents += cents;
    } else if (t.equals("return")) {
      p.spendCents -= cents;
    }
    p.firstSeen = Math.min(p.firstSeen, ts.asLong());
    p.lastSeen = Math.max(p.lastSeen, ts.asLong());
    JsonNode sku = e.get("sku");
    if (sku != null && sku.isTextual()) {
      p.lastSkus.add(0, sku.asText());
      if (p.lastSkus.size() > 10) {
        p.lastSkus.remove(10);
      }
    }
    prefixes.computeIfAbsent(id.asText(), k -> new ArrayList<>()).add(describe(p));
  }

  /**
   * Every {@code k >= 1} such that {@code served} is the customer's profile after its first {@code
   * k} events; empty for a customer without events or a profile no prefix explains.
   */
  @Override
  public Set<Integer> prefixesOf(String customerId, JsonNode served) {
    List<String> states = prefixes.getOrDefault(customerId, List.of());
    if (!customerId.equals(served.path("customerId").asText())) {
      return Set.of();
    }
    String shown;
    try {
      shown = describe(served);
    } catch (RuntimeException notAProfile) {
      return Set.of();
    }
    Set<Integer> matching = new TreeSet<>();
    for (int k = 0; k < states.size(); k++) {
      if (states.get(k).equals(shown)) {
        matching.add(k + 1);
      }
    }
    return matching;
  }

  Map<String, Expected> profiles() {
    return profiles;
  }

  long malformed() {
    return malformed;
  }

  /** The oracle of these events, fed in their order. */
  static ProfileOracle of(List<Map.Entry<String, String>> events) {
    ProfileOracle oracle = new ProfileOracle();
    events.forEach(e -> oracle.accept(e.getValue()));
    return oracle;
  }

  /** The fields of a served profile that the oracle predicts, as comparable text. */
  static String describe(JsonNode served) {
    return String.format(
        "counts=%s orders=%d spendCents=%d firstSeen=%d lastSeen=%d lastSkus=%s",
        served.get("counts"),
        served.get("orders").asLong(),
        served.get("totalSpendCents").asLong(),
        served.get("firstSeen").asLong(),
        served.get("lastSeen").asLong(),
        served.get("lastSkus"));
  }

  static String describe(Expected p) {
    return String.format(
        "counts=%s orders=%d spendCents=%d firstSeen=%d lastSeen=%d lastSkus=%s",
        JSON.valueToTree(p.counts),
        p.orders,
        p.spendCents,
        p.firstSeen,
        p.lastSeen,
        JSON.valueToTree(p.lastSkus));
  }
}
