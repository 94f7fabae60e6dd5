package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.errors.RetriableBackboneException;
import io.javalin.Javalin;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ForwardCoalescer} against a real HTTP peer that answers single reads and batches the way
 * an owner does (the shapes of {@code DirectCallsHandler}'s single answers and {@code
 * BatchReader}'s entries): the slots of a group are held by slow single reads, so that every read
 * after them waits and goes in one batch, deterministically; each must then get exactly the answer
 * its single read gets from the peer.
 */
class ForwardCoalescerTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final int RETRY_AFTER = 3;
  private static final Map<String, String> HEADERS =
      Map.of(PeerForwarder.ROUTING_GENERATION, "7", PeerForwarder.HOPS, "1");

  private final AtomicInteger singles = new AtomicInteger();
  private final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Void> slowGate = new CompletableFuture<>();
  private volatile String batchMode = "normal";
  private Javalin owner;
  private PeerForwarder forwarder;
  private ForwardCoalescer coalescer;

  @BeforeEach
  void startOwner() {
    owner =
        Javalin.create()
            .get(
                "/v1/stores/s/keys/{key}",
                ctx -> {
                  singles.incrementAndGet();
                  String key = ctx.pathParam("key");
                  if (key.startsWith("slow-")) {
                    slowGate.get(30, TimeUnit.SECONDS);
                  }
                  Single single = single(key);
                  ctx.status(single.status());
                  ctx.header(PeerForwarder.SERVED_BY, "owner-1");
                  if (single.status() == 503) {
                    ctx.header("Retry-After", Integer.toString(RETRY_AFTER));
                  }
                  ctx.contentType("application/json").result(single.body());
                })
            .post(
                "/v1/stores/s/keys:batchGet",
                ctx -> {
                  JsonNode keys = MAPPER.readTree(ctx.body()).get("keys");
                  batchSizes.add(keys.size());
                  ctx.header(PeerForwarder.SERVED_BY, "owner-1");
                  ctx.contentType("application/json");
                  switch (batchMode) {
                    case "refused" ->
                        ctx.status(400).result("{\"error\":{\"code\":\"LIMIT_EXCEEDED\"}}");
                    case "short" -> ctx.result("{\"store\":\"s\",\"results\":[]}");
                    default -> {
                      StringBuilder out =
                          new StringBuilder("{\"store\":\"s\",\"node\":\"owner-1\",\"results\":[");
                      for (int i = 0; i < keys.size(); i++) {
                        out.append(i == 0 ? "" : ",").append(entry(keys.get(i).asText()));
                      }
                      ctx.result(out.append("]}").toString());
                    }
                  }
                })
            .start("127.0.0.1", 0);
    forwarder = new PeerForwarder("node-x", Duration.ofSeconds(20), Optional.empty());
    coalescer = new ForwardCoalescer(forwarder, MAPPER, 1000, 1024 * 1024, RETRY_AFTER);
  }

  @AfterEach
  void stop() {
    slowGate.complete(null);
    forwarder.close();
    owner.stop();
  }

  @Test
  void readsQueuedBehindTheGroupsExchangesGoInOneBatchAndEachGetsItsSingleAnswer()
      throws Exception {
    List<CompletableFuture<PeerForwarder.ForwardedAnswer>> slow = holdEverySlot();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      keys.add(List.of("k-", "missing-", "busy-").get(i % 3) + i);
    }
    keys.add("k-0"); // asked twice: read twice
    List<CompletableFuture<PeerForwarder.ForwardedAnswer>> answers = new ArrayList<>();
    for (String key : keys) {
      answers.add(read(key));
    }
    assertThat(answers).noneMatch(CompletableFuture::isDone);
    slowGate.complete(null);

    for (int i = 0; i < keys.size(); i++) {
      PeerForwarder.ForwardedAnswer got = answers.get(i).get(20, TimeUnit.SECONDS);
      Single want = single(keys.get(i));
      assertThat(got.status()).as(keys.get(i)).isEqualTo(want.status());
      assertThat(new String(got.body(), StandardCharsets.UTF_8))
          .as(keys.get(i))
          .isEqualTo(want.body());
      assertThat(got.servedBy()).as(keys.get(i)).contains("owner-1");
      assertThat(got.retryAfter())
          .as(keys.get(i))
          .isEqualTo(
              want.status() == 503 ? Optional.of(Integer.toString(RETRY_AFTER)) : Optional.empty());
    }
    for (CompletableFuture<PeerForwarder.ForwardedAnswer> s : slow) {
      assertThat(s.get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
    }
    assertThat(singles.get()).as("only the slot holders went alone").isEqualTo(4);
    assertThat(batchSizes).containsExactly(keys.size());
    assertThat(coalescer.coalescedReads()).isEqualTo(keys.size());
    assertThat(coalescer.batches()).isEqualTo(1);
  }

  @Test
  void aBatchAnswerWithTheWrongNumberOfEntriesFailsEveryReadAsRetriableNeverGuesses()
      throws Exception {
    batchMode = "short";
    holdEverySlot();
    List<CompletableFuture<PeerForwarder.ForwardedAnswer>> answers =
        List.of(read("k-1"), read("k-2"), read("missing-3"));
    slowGate.complete(null);
    for (CompletableFuture<PeerForwarder.ForwardedAnswer> answer : answers) {
      Throwable failure = null;
      try {
        answer.get(20, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        failure = e.getCause();
      }
      assertThat(failure)
          .isInstanceOf(RetriableBackboneException.class)
          .hasMessageContaining("3 forwarded reads with 0 entries");
    }
  }

  @Test
  void theReadsOfABatchRefusedAsAWholeGoAloneAndGetTheirOwnAnswers() throws Exception {
    batchMode = "refused";
    holdEverySlot();
    List<String> keys = List.of("k-1", "missing-2", "busy-3");
    List<CompletableFuture<PeerForwarder.ForwardedAnswer>> answers =
        keys.stream().map(this::read).toList();
    slowGate.complete(null);
    for (int i = 0; i < keys.size(); i++) {
      PeerForwarder.ForwardedAnswer got = answers.get(i).get(20, TimeUnit.SECONDS);
      assertThat(got.status()).as(keys.get(i)).isEqualTo(single(keys.get(i)).status());
      assertThat(new String(got.body(), StandardCharsets.UTF_8))
          .isEqualTo(single(keys.get(i)).body());
    }
    assertThat(batchSizes).containsExactly(3);
    assertThat(singles.get()).isEqualTo(ForwardCoalescer.MAX_IN_FLIGHT + 3);
  }

  @Test
  void readsWithOtherFlagsOrHeadersDoNotWaitBehindAFullGroup() throws Exception {
    holdEverySlot();
    PeerForwarder.ForwardedAnswer other =
        coalescer
            .get(
                new HostInfo("127.0.0.1", owner.port()),
                "s",
                "k-9",
                "k-9",
                "",
                Map.of(PeerForwarder.ROUTING_GENERATION, "8", PeerForwarder.HOPS, "1"))
            .get(20, TimeUnit.SECONDS);
    assertThat(other.status()).isEqualTo(200);
    assertThat(batchSizes).isEmpty();
  }

  @Test
  void readsBeyondTheWaitingBoundFailAtOnceAsRetriableAndTheOthersAreAnswered() throws Exception {
    holdEverySlot();
    List<CompletableFuture<PeerForwarder.ForwardedAnswer>> waiting = new ArrayList<>();
    for (int i = 0; i < ForwardCoalescer.MAX_WAITING; i++) {
      waiting.add(read("k-" + i));
    }
    CompletableFuture<PeerForwarder.ForwardedAnswer> over = read("k-over");
    assertThat(over).isCompletedExceptionally();
    assertThatThrownBy(over::join)
        .hasCauseInstanceOf(RetriableBackboneException.class)
        .hasMessageContaining("reads already wait");
    slowGate.complete(null);
    for (CompletableFuture<PeerForwarder.ForwardedAnswer> answer : waiting) {
      assertThat(answer.get(60, TimeUnit.SECONDS).status()).isEqualTo(200);
    }
  }

  /** Starts {@link ForwardCoalescer#MAX_IN_FLIGHT} slow single reads and waits until they hang. */
  private List<CompletableFuture<PeerForwarder.ForwardedAnswer>> holdEverySlot() {
    List<CompletableFuture<PeerForwarder.ForwardedAnswer>> slow = new ArrayList<>();
    for (int i = 0; i < ForwardCoalescer.MAX_IN_FLIGHT; i++) {
      slow.add(read("slow-" + i));
    }
    org.awaitility.Awaitility.await("the slow reads reached the owner")
        .atMost(Duration.ofSeconds(20))
        .until(() -> singles.get() == ForwardCoalescer.MAX_IN_FLIGHT);
    return slow;
  }

  private CompletableFuture<PeerForwarder.ForwardedAnswer> read(String key) {
    return coalescer.get(new HostInfo("127.0.0.1", owner.port()), "s", key, key, "", HEADERS);
  }

  private record Single(int status, String body) {}

  /** The owner's single answer: a value, a "not found" with the read's fields, or an error. */
  private static Single single(String key) {
    if (key.startsWith("busy-")) {
      return new Single(
          503, "{\"error\":{\"code\":\"REBALANCING\",\"message\":\"" + key + " moves\"}}");
    }
    return new Single(key.startsWith("missing-") ? 404 : 200, entry(key));
  }

  /** The owner's batch entry for a key, as {@code BatchReader} writes it. */
  private static String entry(String key) {
    if (key.startsWith("busy-")) {
      return "{\"error\":{\"code\":\"REBALANCING\",\"message\":\""
          + key
          + " moves\"},\"store\":\"s\",\"key\":\""
          + key
          + "\",\"status\":503}";
    }
    String fields =
        "\"store\":\"s\",\"key\":\""
            + key
            + "\""
            + (key.startsWith("missing-")
                ? ""
                : ",\"value\":{\"n\":\"" + key + "\",\"nested\":{\"status\":1,\"node\":[2]}}")
            + ",\"node\":\"owner-1\",\"partition\":0,\"position\":\"AQ\",\"generation\":7";
    return key.startsWith("missing-")
        ? "{\"error\":{\"code\":\"KEY_NOT_FOUND\",\"message\":\"no " + key + "\"}," + fields + "}"
        : "{" + fields + "}";
  }
}
