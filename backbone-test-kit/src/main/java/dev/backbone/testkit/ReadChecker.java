package dev.backbone.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks <em>every</em> answer a key read gave while faults happened, not only the state reached at
 * the end: a test records each answer as it arrives, and the checker fails on any wrong value, any
 * false "not found" and any fresh answer older than one the same client already saw.
 *
 * <p>The model. A key's state after its first {@code k} events (in the order its partition holds
 * them) is {@code state(k)}; the {@link Oracle} says for which {@code k >= 1} a served value equals
 * {@code state(k)}. The tables checked here only ever grow (events are folded in, keys are never
 * deleted), so:
 *
 * <ul>
 *   <li><b>Wrong value</b>: a value, fresh or stale, that equals no {@code state(k)}.
 *   <li><b>Went backwards</b>: a fresh value whose every {@code k} is below the smallest {@code k}
 *       of a fresh value the same client saw earlier. Stale answers may go backwards; they must
 *       still be some {@code state(k)}.
 *   <li><b>False "not found"</b>: a fresh "not found" for a key that <em>must exist</em> when the
 *       read began: declared by the test ({@link #mustExist}), or some value of it was answered (to
 *       any client) before the read began. Since no key is ever deleted, a value once answered
 *       proves the key exists for every read that starts later; reads that overlap in time prove
 *       nothing about each other. A stale "not found" is allowed.
 *   <li><b>Unexpected answer</b>: anything else than a value, a "not found", or a retriable refusal
 *       (503 with {@code Retry-After}), e.g. a 500 or a 503 without {@code Retry-After}.
 * </ul>
 *
 * A "client" is a sequence of reads made one after another (one thread); answers to different
 * clients are not ordered. Thread-safe.
 *
 * <pre>{@code
 * ReadChecker<JsonNode> checker = new ReadChecker<>(oracle);
 * ReadChecker.Read read = checker.begin("reader-1", key);
 * HttpResponse<String> r = http.send(...);
 * read.end(ReadChecker.httpAnswer(r.statusCode(), r.headers().firstValue("Retry-After").orElse(null), r.body()));
 * ...
 * checker.assertNoViolations();
 * }</pre>
 *
 * @param <V> the type of a served value
 */
public final class ReadChecker<V> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int VIOLATIONS_SHOWN = 20;

  /**
   * What values a key may legally have.
   *
   * @param <V> the type of a served value
   */
  @FunctionalInterface
  public interface Oracle<V> {
    /**
     * Every {@code k >= 1} such that {@code value} is the key's state after its first {@code k}
     * events; empty if it is no such state (a wrong value).
     */
    Set<Integer> prefixesOf(String key, V value);
  }

  /**
   * One answer to a key read.
   *
   * @param <V> the type of a served value
   */
  public sealed interface Answer<V> {
    /**
     * A value.
     *
     * @param value the value
     * @param stale whether the answer said it may be behind ({@code "stale":true})
     */
    record Value<V>(V value, boolean stale) implements Answer<V> {}

    /**
     * The key has no value.
     *
     * @param stale whether the answer said it may be behind
     */
    record NotFound<V>(boolean stale) implements Answer<V> {}

    /**
     * A retriable refusal (503 with {@code Retry-After}).
     *
     * @param code the error code, e.g. {@code RESTORING}
     */
    record Retry<V>(String code) implements Answer<V> {}

    /**
     * Anything else; always a violation.
     *
     * @param description what came back
     */
    record Unexpected<V>(String description) implements Answer<V> {}
  }

  /**
   * How many answers of each kind were recorded.
   *
   * @param freshValues values not marked stale
   * @param staleValues values marked stale
   * @param freshNotFound "not found" not marked stale
   * @param staleNotFound "not found" marked stale
   * @param retries retriable refusals
   * @param unexpected anything else
   */
  public record Counts(
      long freshValues,
      long staleValues,
      long freshNotFound,
      long staleNotFound,
      long retries,
      long unexpected) {
    /** Every answer. */
    public long total() {
      return freshValues + staleValues + freshNotFound + staleNotFound + retries + unexpected;
    }
  }

  /** A read in flight: {@link #end} records its answer. */
  public final class Read {
    private final String client;
    private final String key;
    private final long startNanos;

    private Read(String client, String key, long startNanos) {
      this.client = client;
      this.key = key;
      this.startNanos = startNanos;
    }

    /** Records the answer of this read; never throws. */
    public void end(Answer<V> answer) {
      record(this, Objects.requireNonNull(answer, "answer"), System.nanoTime());
    }
  }

  private record ClientKey(String client, String key) {}

  private final Oracle<V> oracle;
  private final Map<ClientKey, Integer> floors = new HashMap<>();
  private final Map<String, Long> existsSince = new HashMap<>();
  private final List<String> violations = new ArrayList<>();
  private long freshValues;
  private long staleValues;
  private long freshNotFound;
  private long staleNotFound;
  private long retries;
  private long unexpected;

  /**
   * A checker with no answers yet.
   *
   * @param oracle what values a key may have
   */
  public ReadChecker(Oracle<V> oracle) {
    this.oracle = Objects.requireNonNull(oracle, "oracle");
  }

  /** Starts a read of {@code key} by {@code client}; call {@link Read#end} with its answer. */
  public Read begin(String client, String key) {
    return new Read(
        Objects.requireNonNull(client, "client"),
        Objects.requireNonNull(key, "key"),
        System.nanoTime());
  }

  /**
   * Declares that {@code key} exists from now on (e.g. its event was acknowledged and a read
   * returned it): a fresh "not found" of a read that begins later is a violation.
   */
  public synchronized void mustExist(String key) {
    existsSince.merge(key, System.nanoTime(), Math::min);
  }

  /** Records a read that began and ended now. */
  public void record(String client, String key, Answer<V> answer) {
    begin(client, key).end(answer);
  }

  private synchronized void record(Read read, Answer<V> answer, long endNanos) {
    String where = read.client + " read " + read.key + ": ";
    if (answer instanceof Answer.Value<V> value) {
      Set<Integer> prefixes = oracle.prefixesOf(read.key, value.value());
      if (value.stale()) {
        staleValues++;
      } else {
        freshValues++;
      }
      if (prefixes.isEmpty()) {
        violations.add(where + "wrong value " + value.value() + (value.stale() ? " (stale)" : ""));
        return;
      }
      existsSince.merge(read.key, endNanos, Math::min);
      if (value.stale()) {
        return;
      }
      int lowest = prefixes.stream().mapToInt(Integer::intValue).min().orElseThrow();
      int highest = prefixes.stream().mapToInt(Integer::intValue).max().orElseThrow();
      ClientKey ck = new ClientKey(read.client, read.key);
      Integer floor = floors.get(ck);
      if (floor != null && highest < floor) {
        violations.add(
            where
                + "went backwards: state after "
                + prefixes
                + " event(s), but this client already saw the state after "
                + floor
                + ": "
                + value.value());
        return;
      }
      floors.put(ck, floor == null ? lowest : Math.max(floor, lowest));
    } else if (answer instanceof Answer.NotFound<V> notFound) {
      if (notFound.stale()) {
        staleNotFound++;
        return;
      }
      freshNotFound++;
      Long since = existsSince.get(read.key);
      if (since != null && since < read.startNanos) {
        violations.add(where + "false \"not found\": the key was known to exist before this read");
      }
    } else if (answer instanceof Answer.Retry<V>) {
      retries++;
    } else if (answer instanceof Answer.Unexpected<V> other) {
      unexpected++;
      violations.add(where + "unexpected answer " + other.description());
    }
  }

  /** Every violation so far, in the order recorded. */
  public synchronized List<String> violations() {
    return List.copyOf(violations);
  }

  /** How many answers of each kind were recorded. */
  public synchronized Counts counts() {
    return new Counts(freshValues, staleValues, freshNotFound, staleNotFound, retries, unexpected);
  }

  /**
   * Fails with the first violations and the counts, if there was any violation.
   *
   * @throws AssertionError naming the violations
   */
  public synchronized void assertNoViolations() {
    if (violations.isEmpty()) {
      return;
    }
    StringBuilder message =
        new StringBuilder()
            .append(violations.size())
            .append(" wrong answer(s) among ")
            .append(counts())
            .append(":");
    violations.stream()
        .limit(VIOLATIONS_SHOWN)
        .forEach(v -> message.append(System.lineSeparator()).append("  ").append(v));
    if (violations.size() > VIOLATIONS_SHOWN) {
      message.append(System.lineSeparator()).append("  ...");
    }
    throw new AssertionError(message.toString());
  }

  /**
   * The answer of a Backbone key read over HTTP ({@code GET /v1/stores/{store}/keys/{key}}): 200
   * with {@code value} (and {@code "stale":true} if marked so), 404 {@code KEY_NOT_FOUND} (stale if
   * marked), 503 with {@code Retry-After}; anything else is {@link Answer.Unexpected}.
   *
   * @param status the HTTP status
   * @param retryAfter the {@code Retry-After} header, or null
   * @param body the body
   */
  public static Answer<JsonNode> httpAnswer(int status, String retryAfter, String body) {
    JsonNode json;
    try {
      json = body == null || body.isBlank() ? JSON.nullNode() : JSON.readTree(body);
    } catch (IOException e) {
      return new Answer.Unexpected<>(status + " with a body that is not JSON: " + body);
    }
    boolean stale = json.path("stale").asBoolean(false);
    if (status == 200 && json.has("value")) {
      return new Answer.Value<>(json.get("value"), stale);
    }
    String code = json.path("error").path("code").asText("");
    if (status == 404 && code.equals("KEY_NOT_FOUND")) {
      return new Answer.NotFound<>(stale);
    }
    if (status == 503 && retryAfter != null && !retryAfter.isBlank()) {
      return new Answer.Retry<>(code);
    }
    return new Answer.Unexpected<>(
        status + (retryAfter == null ? "" : " Retry-After=" + retryAfter) + " " + body);
  }

  /**
   * Records a read that got no answer at all (e.g. its connection was refused by a node that was
   * just killed): not a wrong answer, a client retries it as it would a 503.
   */
  public void recordNoAnswer(String client, String key, Exception failure) {
    record(client, key, new Answer.Retry<>("NO_ANSWER " + failure.getClass().getSimpleName()));
  }
}
