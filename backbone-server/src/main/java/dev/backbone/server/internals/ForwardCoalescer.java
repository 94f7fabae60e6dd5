package dev.backbone.server.internals;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Forwards the JSON key reads a non-owner sends to one peer, coalescing those that arrive while
 * earlier ones are on their way into one {@code keys:batchGet} exchange, whose answer it splits
 * back into each read's own answer.
 *
 * <p><b>Why.</b> A forwarded read costs a second HTTP exchange on top of the client's: a profile of
 * a non-owner under a GET load put most of its request threads' time in the client side of that
 * exchange (building the request, writing it, reading and parsing the answer, a socket write and
 * read each way), about as much again as the owner's whole read; through a non-owner a read then
 * ran at 0.41x the owner's rate (docs/benchmarks.md). A batch pays that cost once for all its keys,
 * and the owner serves a batch's keys at about 2.5 times its rate of single reads.
 *
 * <p><b>How.</b> Reads are grouped by peer, store, consistency flags and forwarding headers (the
 * routing generation and hop count), so a batch carries exactly what each of its single reads would
 * have. Up to {@link #MAX_IN_FLIGHT} exchanges per group go at once, a read alone as a single GET,
 * exactly as before: a lightly loaded node adds no wait and no batching. A read that finds them all
 * on their way waits for the next one to finish, and goes with every read that waited with it (at
 * most the batch limit) in one batch. So a read waits in the queue for at most one exchange, which
 * the forward deadline bounds, then makes its own.
 *
 * <p><b>What must hold.</b> Each read gets the answer its single forward would have had. The owner
 * reads every key of a forwarded batch under the rules of a forwarded single read ({@link
 * BatchReader}), and a batch entry is written by the same mapper from the same answer as a single
 * answer's body: an entry is relayed as the bytes the owner wrote, with the status and serving node
 * a single answer would carry (200, or 404 for {@code KEY_NOT_FOUND}; an entry the owner could not
 * read carries its status and error, relayed as the single read's error body, with this node's
 * {@code Retry-After} for a 503). An exchange that fails fails each of its reads as a single
 * forward would; an answer that is not a well-formed batch of as many entries fails them with a
 * 502-like {@code OWNER_UNREACHABLE} rather than guessing. Duplicate keys are sent as often as they
 * were asked: each read is read.
 */
final class ForwardCoalescer {
  /** Exchanges on their way to one peer for one group at most; more reads wait and batch. */
  static final int MAX_IN_FLIGHT = 4;

  /**
   * Reads waiting behind one group's exchanges at most, as many as the forwarder queues for one
   * peer ({@link PeerForwarder#MAX_QUEUED_PER_PEER}); more fail at once as the owner unreachable,
   * so an owner that stopped answering cannot make a node hold reads without bound.
   */
  static final int MAX_WAITING = PeerForwarder.MAX_QUEUED_PER_PEER;

  /** Keys in one coalesced batch at most (and never more than the batch limit). */
  static final int MAX_BATCH = 128;

  private static final JsonFactory JSON = new JsonFactory();

  private final PeerForwarder forwarder;
  private final ObjectMapper mapper;
  private final int maxBatch;
  private final int maxBodyBytes;
  private final LongAdder coalescedReads = new LongAdder();
  private final LongAdder batches = new LongAdder();
  private final int retryAfterSeconds;
  private final Map<GroupKey, Group> groups = new ConcurrentHashMap<>();

  /**
   * A coalescer within this node's own limits, which its peers share: at most {@code maxBatchKeys}
   * keys in a batch, and a body within {@code maxBodyBytes}.
   */
  ForwardCoalescer(
      PeerForwarder forwarder,
      ObjectMapper mapper,
      int maxBatchKeys,
      int maxBodyBytes,
      int retryAfterSeconds) {
    this.forwarder = forwarder;
    this.mapper = mapper;
    this.maxBatch = Math.max(1, Math.min(MAX_BATCH, maxBatchKeys));
    this.maxBodyBytes = maxBodyBytes;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Forwarded reads sent in a coalesced batch so far. */
  long coalescedReads() {
    return coalescedReads.sum();
  }

  /** Coalesced batches sent so far. */
  long batches() {
    return batches.sum();
  }

  /**
   * The most bytes a key takes in a batch body: JSON writes a UTF-16 unit as at most six bytes (a
   * control character becomes a six-character escape), with its quotes and comma.
   */
  private static int bodyBytes(String key) {
    return 6 * key.length() + 3;
  }

  /**
   * Forwards a JSON read of {@code keyText} from {@code store} to {@code owner}.
   *
   * @param storePath the store's path segment, percent-encoded
   * @param keyPath the key's path segment, percent-encoded
   * @param query the read's query string (its consistency flags), empty or starting with {@code ?}
   * @param headers the forwarding headers (routing generation, hops)
   * @return the answer the owner gave, or would have given, to the single read
   */
  CompletableFuture<PeerForwarder.ForwardedAnswer> get(
      HostInfo owner,
      String storePath,
      String keyText,
      String keyPath,
      String query,
      Map<String, String> headers) {
    Group group =
        groups.computeIfAbsent(
            new GroupKey(owner, storePath, query, Map.copyOf(headers)), Group::new);
    Pending read = new Pending(keyText, keyPath, new CompletableFuture<>());
    boolean sendNow;
    boolean full = false;
    synchronized (group) {
      sendNow = group.inFlight < MAX_IN_FLIGHT;
      if (sendNow) {
        group.inFlight++;
      } else if (group.waiting.size() >= MAX_WAITING) {
        full = true;
      } else {
        group.waiting.add(read);
      }
    }
    if (full) {
      read.answer()
          .completeExceptionally(
              HttpErrors.retriable(
                  HttpErrors.OWNER_UNREACHABLE,
                  "The node at "
                      + owner.host()
                      + ":"
                      + owner.port()
                      + " owns the key, and "
                      + MAX_WAITING
                      + " reads already wait for it; retry later, or check that node."));
      return read.answer();
    }
    if (sendNow) {
      send(group, List.of(read));
    }
    if (groups.size() > 4096) {
      // Groups are keyed by routing generation too; drop idle ones of past generations.
      groups.values().removeIf(Group::idle);
    }
    return read.answer();
  }

  private void send(Group group, List<Pending> reads) {
    CompletableFuture<Void> done;
    try {
      done = exchange(group, reads);
    } catch (RuntimeException e) {
      reads.forEach(r -> complete(r, null, e));
      done = CompletableFuture.completedFuture(null);
    }
    done.whenComplete((ignored, failure) -> next(group));
  }

  private CompletableFuture<Void> exchange(Group group, List<Pending> reads) {
    return reads.size() == 1 ? single(group, reads.get(0)) : sendBatch(group, reads);
  }

  /** A read sent alone, as a plain forward. */
  private CompletableFuture<Void> single(Group group, Pending read) {
    return forwarder
        .get(
            group.key.owner(),
            "/v1/stores/" + group.key.storePath() + "/keys/" + read.keyPath() + group.key.query(),
            group.key.headers())
        .handle(
            (answer, failure) -> {
              complete(read, answer, failure);
              return null;
            });
  }

  /** Sends what waited since, or frees the exchange's slot. */
  private void next(Group group) {
    List<Pending> batch;
    synchronized (group) {
      if (group.waiting.isEmpty()) {
        group.inFlight--;
        return;
      }
      batch = new ArrayList<>(Math.min(maxBatch, group.waiting.size()));
      int budget = maxBodyBytes - 16;
      while (batch.size() < maxBatch && !group.waiting.isEmpty()) {
        budget -= bodyBytes(group.waiting.peek().keyText());
        if (budget < 0 && !batch.isEmpty()) {
          break;
        }
        batch.add(group.waiting.poll());
      }
    }
    send(group, batch);
  }

  private CompletableFuture<Void> sendBatch(Group group, List<Pending> reads) {
    byte[] body;
    try {
      body =
          mapper.writeValueAsBytes(Map.of("keys", reads.stream().map(Pending::keyText).toList()));
    } catch (IOException e) {
      throw new IllegalStateException("a list of strings is always JSON", e);
    }
    String query = group.key.query();
    batches.increment();
    coalescedReads.add(reads.size());
    return forwarder
        .postJson(
            group.key.owner(),
            "/v1/stores/" + group.key.storePath() + "/keys:batchGet" + query,
            group.key.headers(),
            body)
        .handle(
            (answer, failure) -> {
              if (failure != null) {
                reads.forEach(r -> complete(r, null, failure));
              } else if (answer.status() != 200) {
                // Refused as a whole (a peer with smaller limits, a token it does not take):
                // a refusal of the batch is not an answer to any one read, so each goes alone.
                return CompletableFuture.allOf(
                    reads.stream().map(r -> single(group, r)).toArray(CompletableFuture[]::new));
              } else {
                splitInto(answer, reads);
              }
              return CompletableFuture.<Void>completedFuture(null);
            })
        .thenCompose(next -> next);
  }

  private void splitInto(PeerForwarder.ForwardedAnswer batch, List<Pending> reads) {
    List<PeerForwarder.ForwardedAnswer> answers;
    try {
      answers = entries(batch);
    } catch (IOException | RuntimeException e) {
      answers = null;
    }
    if (answers == null || answers.size() != reads.size()) {
      RuntimeException failure =
          HttpErrors.retriable(
              HttpErrors.OWNER_UNREACHABLE,
              "The owner answered a batch of "
                  + reads.size()
                  + " forwarded reads with "
                  + (answers == null
                      ? "a body that is not a batch answer"
                      : answers.size() + " entries")
                  + "; retry.");
      reads.forEach(r -> complete(r, null, failure));
      return;
    }
    for (int i = 0; i < reads.size(); i++) {
      complete(reads.get(i), answers.get(i), null);
    }
  }

  /**
   * The single answers a batch answer holds, in order: each entry's bytes as the owner wrote them,
   * with the status and serving node a single answer carries.
   */
  private List<PeerForwarder.ForwardedAnswer> entries(PeerForwarder.ForwardedAnswer batch)
      throws IOException {
    byte[] body = batch.body();
    List<PeerForwarder.ForwardedAnswer> out = new ArrayList<>();
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (!"results".equals(field)) {
          p.skipChildren();
          continue;
        }
        if (value != JsonToken.START_ARRAY) {
          return null;
        }
        while (p.nextToken() == JsonToken.START_OBJECT) {
          out.add(entry(p, body, batch));
        }
        return p.currentToken() == JsonToken.END_ARRAY ? out : null;
      }
    }
    return null;
  }

  /** One entry, the parser on its {@code START_OBJECT}; leaves it on the entry's end. */
  private PeerForwarder.ForwardedAnswer entry(
      JsonParser p, byte[] body, PeerForwarder.ForwardedAnswer batch) throws IOException {
    int start = (int) p.currentTokenLocation().getByteOffset();
    Integer status = null;
    String node = null;
    String errorCode = null;
    int errorStart = -1;
    int errorEnd = -1;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      switch (field) {
        case "status" -> status = value == JsonToken.VALUE_NUMBER_INT ? p.getIntValue() : null;
        case "node" -> node = value == JsonToken.VALUE_STRING ? p.getText() : null;
        case "error" -> {
          errorStart = (int) p.currentTokenLocation().getByteOffset();
          errorCode = value == JsonToken.START_OBJECT ? errorCode(p) : null;
          errorEnd = (int) p.currentLocation().getByteOffset();
        }
        default -> p.skipChildren();
      }
    }
    int end = (int) p.currentLocation().getByteOffset();
    if (status != null) {
      // An entry the owner could not read: a single read's answer is the error body alone.
      byte[] error = errorBody(body, errorStart, errorEnd);
      Optional<String> retryAfter =
          status == 503 ? Optional.of(Integer.toString(retryAfterSeconds)) : Optional.empty();
      return new PeerForwarder.ForwardedAnswer(
          status, "application/json", error, retryAfter, batch.servedBy(), Map.of());
    }
    return new PeerForwarder.ForwardedAnswer(
        errorCode == null ? 200 : HttpErrors.statusOf(errorCode),
        "application/json",
        Arrays.copyOfRange(body, start, end),
        Optional.empty(),
        node == null ? batch.servedBy() : Optional.of(node),
        Map.of());
  }

  /** The {@code code} of an {@code error} object, the parser on its start; leaves it on its end. */
  private static String errorCode(JsonParser p) throws IOException {
    String code = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      if ("code".equals(field) && value == JsonToken.VALUE_STRING) {
        code = p.getText();
      } else {
        p.skipChildren();
      }
    }
    return code;
  }

  private static byte[] errorBody(byte[] body, int errorStart, int errorEnd) throws IOException {
    if (errorStart < 0 || errorEnd <= errorStart) {
      throw new IOException("a failed entry without an error object");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(errorEnd - errorStart + 10);
    out.write("{\"error\":".getBytes(StandardCharsets.UTF_8));
    out.write(body, errorStart, errorEnd - errorStart);
    out.write('}');
    return out.toByteArray();
  }

  private static void complete(
      Pending read, PeerForwarder.ForwardedAnswer answer, Throwable failure) {
    if (failure != null) {
      read.answer().completeExceptionally(HttpApi.unwrap(failure));
    } else {
      read.answer().complete(answer);
    }
  }

  /** What reads must share to travel in one batch. */
  private record GroupKey(
      HostInfo owner, String storePath, String query, Map<String, String> headers) {}

  /** One group's exchanges on their way and reads waiting; guarded by the group's monitor. */
  private static final class Group {
    final GroupKey key;
    final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    int inFlight;

    Group(GroupKey key) {
      this.key = key;
    }

    synchronized boolean idle() {
      return inFlight == 0 && waiting.isEmpty();
    }
  }

  /** A read waiting for its answer. */
  private record Pending(
      String keyText, String keyPath, CompletableFuture<PeerForwarder.ForwardedAnswer> answer) {}
}
