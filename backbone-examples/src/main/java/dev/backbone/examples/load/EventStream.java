package dev.backbone.examples.load;

import java.math.BigDecimal;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The deterministic sequence of events of a {@link LoadSpec}: the same spec (seed included) gives
 * the same (key, value) pairs, in any JVM, without Kafka. Finite when the spec has a total, endless
 * when it has a duration (the caller stops). Not thread-safe.
 *
 * <p>Per event, from one {@link SplittableRandom} seeded with the spec's seed:
 *
 * <ul>
 *   <li>customer {@code c-<i>}, {@code i} Zipf-distributed by the spec's skew;
 *   <li>type view 60%, cart 20%, order 15%, return 5%;
 *   <li>sku {@code sku-0} to {@code sku-999}, uniform;
 *   <li>amount, on carts, orders and returns only, 1.00 to 500.00 with two decimals;
 *   <li>{@code ts} from a clock starting at {@value #EPOCH_MILLIS} that advances {@code 1000 /
 *       eventsPerSecond} ms per event (1 ms when the rate is unlimited), independent of wall time;
 *   <li>with probability {@code badRatio}, the event is spoiled in one of the {@link BadEventKind}
 *       ways, chosen uniformly.
 * </ul>
 */
public final class EventStream implements Iterator<ProducerRecord<String, String>> {

  /** Event time of the first event: 2024-11-25T02:00:00Z. */
  public static final long EPOCH_MILLIS = 1_732_500_000_000L;

  /** Number of distinct skus. */
  public static final int SKUS = 1000;

  private static final String[] UNKNOWN_TYPES = {"click", "refund", "wishlist"};
  private static final BadEventKind[] BAD_KINDS = BadEventKind.values();
  private static final int MIN_AMOUNT_CENTS = 100;
  private static final int MAX_AMOUNT_CENTS = 50_000;

  private final LoadSpec spec;
  private final CustomerSampler customers;
  private final SplittableRandom random;
  private final double millisPerEvent;
  private long emitted;
  private long bad;

  EventStream(LoadSpec spec) {
    spec.validate();
    this.spec = spec;
    this.customers = CustomerSampler.of(spec.customers(), spec.zipfSkew());
    this.random = new SplittableRandom(spec.seed());
    this.millisPerEvent = spec.eventsPerSecond() > 0 ? 1000.0 / spec.eventsPerSecond() : 1.0;
  }

  /** The spec this stream follows. */
  public LoadSpec spec() {
    return spec;
  }

  /** Whether another event follows: always for a duration-bounded spec. */
  @Override
  public boolean hasNext() {
    return spec.totalEvents() == LoadSpec.UNBOUNDED || emitted < spec.totalEvents();
  }

  /** The next event as a producer record for the spec's topic. */
  @Override
  public ProducerRecord<String, String> next() {
    return nextEvent().toRecord(spec.topic());
  }

  /**
   * The next event, telling whether it is bad.
   *
   * @throws NoSuchElementException after the spec's total
   */
  public GeneratedEvent nextEvent() {
    if (!hasNext()) {
      throw new NoSuchElementException(
          "the load spec's " + spec.totalEvents() + " events were all generated");
    }
    long ts = EPOCH_MILLIS + (long) (emitted * millisPerEvent);
    emitted++;
    boolean spoil = random.nextDouble() < spec.badRatio();
    String customerId = "c-" + customers.sample(random.nextDouble());
    int typeRoll = random.nextInt(100);
    String type =
        typeRoll < 60 ? "view" : typeRoll < 80 ? "cart" : typeRoll < 95 ? "order" : "return";
    String sku = "sku-" + random.nextInt(SKUS);
    long cents = random.nextInt(MIN_AMOUNT_CENTS, MAX_AMOUNT_CENTS + 1);
    boolean hasAmount = !type.equals("view");
    if (!spoil) {
      return new GeneratedEvent(
          customerId, json(customerId, type, ts, sku, hasAmount ? amount(cents) : null), null);
    }
    bad++;
    BadEventKind kind = BAD_KINDS[random.nextInt(BAD_KINDS.length)];
    return switch (kind) {
      case NOT_JSON -> {
        String whole = json(customerId, type, ts, sku, hasAmount ? amount(cents) : null);
        yield new GeneratedEvent(customerId, whole.substring(0, whole.length() / 2), kind);
      }
      case MISSING_ID -> new GeneratedEvent(null, json(null, type, ts, sku, null), kind);
      case UNKNOWN_TYPE ->
          new GeneratedEvent(
              customerId,
              json(customerId, UNKNOWN_TYPES[random.nextInt(UNKNOWN_TYPES.length)], ts, sku, null),
              kind);
      case NEGATIVE_AMOUNT ->
          new GeneratedEvent(
              customerId, json(customerId, "order", ts, sku, "-" + amount(cents)), kind);
    };
  }

  /** Events generated so far. */
  public long emitted() {
    return emitted;
  }

  /** Bad events among them: the number the pipeline must send to the DLQ. */
  public long bad() {
    return bad;
  }

  private static String amount(long cents) {
    return BigDecimal.valueOf(cents, 2).toPlainString();
  }

  private static String json(String customerId, String type, long ts, String sku, String amount) {
    StringBuilder json = new StringBuilder(112).append('{');
    if (customerId != null) {
      json.append("\"customerId\":\"").append(customerId).append("\",");
    }
    json.append("\"type\":\"").append(type).append("\",\"ts\":").append(ts);
    json.append(",\"sku\":\"").append(sku).append('"');
    if (amount != null) {
      json.append(",\"amount\":").append(amount);
    }
    return json.append('}').toString();
  }
}
