package dev.backbone.examples.load;

import dev.backbone.errors.FatalBackboneException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link LoadGenerator} produces. A spec may be built invalid (a CLI maps flags onto it one
 * by one); {@link #problems()} lists everything wrong at once and {@link #validate()} throws with
 * that list. The generator validates before it starts.
 *
 * @param topic where to send the events
 * @param eventsPerSecond target rate; 0 means as fast as possible
 * @param customers how many customers, ids {@code c-0} to {@code c-(customers-1)}
 * @param zipfSkew Zipf exponent of customer popularity, {@code c-0} the most popular; 0 means
 *     uniform
 * @param totalEvents how many events to send, or {@link #UNBOUNDED} when a duration is given
 * @param duration how long to send, or null when a total is given
 * @param seed the sequence of events depends on this and the other fields only
 * @param badRatio share of malformed events, 0 to 1
 */
public record LoadSpec(
    String topic,
    double eventsPerSecond,
    int customers,
    double zipfSkew,
    long totalEvents,
    Duration duration,
    long seed,
    double badRatio) {

  /** {@link #totalEvents()} when the run is bounded by a duration instead. */
  public static final long UNBOUNDED = -1;

  /** Default topic: the pipeline's default input topic. */
  public static final String DEFAULT_TOPIC = "customer-events";

  /** Default number of customers. */
  public static final int DEFAULT_CUSTOMERS = 10_000;

  /** Default Zipf skew: a classic long tail. */
  public static final double DEFAULT_ZIPF_SKEW = 1.0;

  /** Default seed. */
  public static final long DEFAULT_SEED = 42;

  /**
   * {@code totalEvents} events to {@value #DEFAULT_TOPIC} as fast as possible, with the default
   * customers, skew and seed and no bad events.
   */
  public static LoadSpec ofEvents(long totalEvents) {
    return new LoadSpec(
        DEFAULT_TOPIC, 0, DEFAULT_CUSTOMERS, DEFAULT_ZIPF_SKEW, totalEvents, null, DEFAULT_SEED, 0);
  }

  /** Like {@link #ofEvents} but bounded by time instead of a count. */
  public static LoadSpec ofDuration(Duration duration) {
    return new LoadSpec(
        DEFAULT_TOPIC,
        0,
        DEFAULT_CUSTOMERS,
        DEFAULT_ZIPF_SKEW,
        UNBOUNDED,
        duration,
        DEFAULT_SEED,
        0);
  }

  /** A copy with another topic. */
  public LoadSpec withTopic(String value) {
    return new LoadSpec(
        value, eventsPerSecond, customers, zipfSkew, totalEvents, duration, seed, badRatio);
  }

  /** A copy with another rate (0 = as fast as possible). */
  public LoadSpec withEventsPerSecond(double value) {
    return new LoadSpec(topic, value, customers, zipfSkew, totalEvents, duration, seed, badRatio);
  }

  /** A copy with another number of customers. */
  public LoadSpec withCustomers(int value) {
    return new LoadSpec(
        topic, eventsPerSecond, value, zipfSkew, totalEvents, duration, seed, badRatio);
  }

  /** A copy with another Zipf skew (0 = uniform). */
  public LoadSpec withZipfSkew(double value) {
    return new LoadSpec(
        topic, eventsPerSecond, customers, value, totalEvents, duration, seed, badRatio);
  }

  /** A copy with another seed. */
  public LoadSpec withSeed(long value) {
    return new LoadSpec(
        topic, eventsPerSecond, customers, zipfSkew, totalEvents, duration, value, badRatio);
  }

  /** A copy with another share of bad events. */
  public LoadSpec withBadRatio(double value) {
    return new LoadSpec(
        topic, eventsPerSecond, customers, zipfSkew, totalEvents, duration, seed, value);
  }

  /** Every problem of this spec, empty when it is valid. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    if (topic == null || topic.isBlank()) {
      problems.add("topic is required");
    }
    if (!Double.isFinite(eventsPerSecond) || eventsPerSecond < 0) {
      problems.add(
          "eventsPerSecond must be a finite number >= 0 (0 = as fast as possible), got "
              + eventsPerSecond);
    }
    if (customers < 1) {
      problems.add("customers must be >= 1, got " + customers);
    }
    if (!Double.isFinite(zipfSkew) || zipfSkew < 0) {
      problems.add("zipfSkew must be a finite number >= 0 (0 = uniform), got " + zipfSkew);
    }
    boolean counted = totalEvents != UNBOUNDED;
    boolean timed = duration != null;
    if (counted == timed) {
      problems.add(
          "exactly one of totalEvents and duration is required, got totalEvents="
              + totalEvents
              + " and duration="
              + duration);
    }
    if (counted && totalEvents < 1) {
      problems.add(
          "totalEvents must be >= 1, or " + UNBOUNDED + " with a duration, got " + totalEvents);
    }
    if (timed && (duration.isZero() || duration.isNegative())) {
      problems.add("duration must be positive, got " + duration);
    }
    if (!(badRatio >= 0 && badRatio <= 1)) {
      problems.add("badRatio must be between 0 and 1, got " + badRatio);
    }
    return problems;
  }

  /**
   * Checks the spec.
   *
   * @throws FatalBackboneException with code {@code BAD_CONFIG} listing every problem
   */
  public void validate() {
    List<String> problems = problems();
    if (!problems.isEmpty()) {
      throw new FatalBackboneException(
          "BAD_CONFIG",
          "invalid load spec: " + String.join("; ", problems) + ". Fix these and run again.");
    }
  }
}
