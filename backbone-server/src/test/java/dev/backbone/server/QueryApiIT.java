package dev.backbone.server;

import static dev.backbone.server.ProfileNodes.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.client.BackboneClient;
import dev.backbone.client.BackboneClientException;
import dev.backbone.client.EventsResult;
import dev.backbone.client.KeyResult;
import dev.backbone.client.ReadOptions;
import dev.backbone.client.ScanPage;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.server.internals.PositionTokens;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three nodes of one application, with an auth token: scans, prefix scans, partition scans and
 * batch gets through every node, paging with the cursor (also while a node leaves in the middle of
 * a scan), and the errors of bad calls. Every page and every item is checked, not only the end
 * result.
 */
@BackboneKafkaCluster(brokers = 1)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QueryApiIT {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String STORE = CustomerProfilePipeline.PROFILE_STORE;
  private static final String TOKEN = "query-api-it-token";
  private static final Map<String, String> AUTH = Map.of("Authorization", "Bearer " + TOKEN);
  private static final Duration STARTUP = Duration.ofSeconds(120);
  private static final int CUSTOMERS = 60;
  private static final List<String> KEYS =
      IntStream.range(0, CUSTOMERS).mapToObj(i -> String.format("c-%02d", i)).toList();

  private static TestKafkaCluster kafka;
  private static final List<BackboneNode> nodes = new ArrayList<>();
  private static final List<HttpProbe> http = new ArrayList<>();

  @BeforeAll
  static void startThreeNodes(TestKafkaCluster cluster) throws Exception {
    kafka = cluster;
    PipelineSettings settings = ProfileNodes.createPipeline(kafka, "query-api-it", 6);
    Properties auth = new Properties();
    auth.setProperty("backbone.http.auth.token", TOKEN);
    auth.setProperty("backbone.http.max.scan.limit", "50");
    auth.setProperty("backbone.http.max.batch.keys", "100");
    auth.setProperty("backbone.http.max.body.bytes", "4096");
    auth.setProperty("backbone.http.max.batch.events", "20");
    for (String id : List.of("node-a", "node-b", "node-c")) {
      BackboneNode node =
          ProfileNodes.node(kafka, settings, id, Files.createTempDirectory("backbone-q"), auth);
      nodes.add(node);
      node.start();
      http.add(new HttpProbe(node.httpPort()));
    }
    List<String[]> events = new ArrayList<>();
    for (int i = 0; i < CUSTOMERS; i++) {
      events.add(new String[] {KEYS.get(i), event(KEYS.get(i), "view", "sku-" + i, "0")});
    }
    ProfileNodes.send(kafka, settings.inputTopic(), events);
    await("every node serves every customer")
        .atMost(STARTUP)
        .until(() -> http.stream().allMatch(h -> fullScan(h, 50).size() == CUSTOMERS));
  }

  @AfterAll
  static void closeNodes() {
    nodes.forEach(BackboneNode::close);
  }

  @Test
  @Order(1)
  void aScanPagedThroughEveryNodeReturnsEveryKeyOnceInKeyOrder() {
    List<String> seen = new ArrayList<>();
    String cursor = null;
    int page = 0;
    do {
      Reply reply = http.get(page % 3).get(rangePath(7, cursor), AUTH);
      cursor = checkPage(reply, page, seen);
      page++;
    } while (cursor != null);
    assertThat(seen).containsExactlyElementsOf(KEYS);
    assertThat(page).isBetween((CUSTOMERS + 6) / 7, CUSTOMERS);
  }

  @Test
  @Order(2)
  void rangeBoundsAndPrefixesAreInclusiveAndExact() {
    for (HttpProbe node : http) {
      Reply range = node.get("/v1/stores/" + STORE + "/range?from=c-15&to=c-22&limit=50", AUTH);
      assertThat(keys(range.json())).containsExactlyElementsOf(KEYS.subList(15, 23));
      Reply prefix = node.get("/v1/stores/" + STORE + "/prefix/c-1?limit=50", AUTH);
      assertThat(keys(prefix.json())).containsExactlyElementsOf(KEYS.subList(10, 20));
      Reply none = node.get("/v1/stores/" + STORE + "/prefix/zz", AUTH);
      assertThat(none.status()).isEqualTo(200);
      assertThat(keys(none.json())).isEmpty();
      assertThat(none.json().has("cursor")).isFalse();
    }
  }

  @Test
  @Order(3)
  void aPartitionScanHoldsExactlyThatPartitionsKeys() {
    List<JsonNode> all = new ArrayList<>();
    String cursor = null;
    do {
      JsonNode page = http.get(0).get(rangePath(50, cursor), AUTH).json();
      page.get("items").forEach(all::add);
      cursor = page.hasNonNull("cursor") ? page.get("cursor").asText() : null;
    } while (cursor != null);
    assertThat(all).hasSize(CUSTOMERS);
    TreeSet<String> union = new TreeSet<>();
    for (int p = 0; p < 6; p++) {
      int partition = p;
      List<String> expected = new ArrayList<>();
      all.forEach(
          item -> {
            if (item.get("partition").asInt() == partition) {
              expected.add(item.get("key").asText());
            }
          });
      for (HttpProbe node : http) {
        Reply reply =
            node.get("/v1/stores/" + STORE + "/range?limit=50&partition=" + partition, AUTH);
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        assertThat(reply.json().get("partition").asInt()).isEqualTo(partition);
        assertThat(keys(reply.json())).containsExactlyElementsOf(expected);
      }
      union.addAll(expected);
    }
    assertThat(union).containsExactlyElementsOf(KEYS);
  }

  @Test
  @Order(4)
  void aBatchGetAnswersEveryKeyInOrderThroughEveryNode() {
    String body = "{\"keys\":[\"c-03\",\"nobody\",\"c-41\",\"c-00\",\"c-59\"]}";
    for (HttpProbe node : http) {
      Reply reply = node.post("/v1/stores/" + STORE + "/keys:batchGet", body, AUTH);
      assertThat(reply.status()).as("%s", reply).isEqualTo(200);
      JsonNode results = reply.json().get("results");
      assertThat(results).hasSize(5);
      String[] keys = {"c-03", "nobody", "c-41", "c-00", "c-59"};
      for (int i = 0; i < keys.length; i++) {
        JsonNode r = results.get(i);
        assertThat(r.get("key").asText()).isEqualTo(keys[i]);
        if (keys[i].equals("nobody")) {
          assertThat(r.at("/error/code").asText()).isEqualTo("KEY_NOT_FOUND");
          assertThat(r.has("value")).isFalse();
        } else {
          checkValue(keys[i], r.get("value"));
          assertThat(r.get("position").asText()).isNotEmpty();
        }
      }
    }
  }

  /**
   * Many reads at once through each node, so that a node's forwards to an owner queue behind the
   * ones on their way and travel coalesced in batches ({@code ForwardCoalescer}): every answer,
   * present key or missing, must be exactly the answer its owner gives when asked directly (status,
   * serving node, every byte of the body; nothing is written meanwhile), and batches must have been
   * sent, or this test tested nothing.
   */
  @Test
  @Order(4)
  void concurrentReadsThroughEveryNodeAreEachAnsweredExactlyAsTheirOwnerAnswersThem()
      throws Exception {
    List<String> asked = new ArrayList<>(KEYS);
    IntStream.range(0, 20).forEach(i -> asked.add("nobody-" + i));
    Map<String, Reply> atOwner = new HashMap<>();
    for (String key : asked) {
      String owner = http.get(0).get(keyPath(key), AUTH).header("X-Backbone-Node").orElseThrow();
      Reply direct = http.get(nodeIndex(owner)).get(keyPath(key), AUTH);
      assertThat(direct.header("X-Backbone-Node")).as("%s", direct).contains(owner);
      assertThat(direct.status()).as("%s", direct).isEqualTo(key.startsWith("c-") ? 200 : 404);
      atOwner.put(key, direct);
    }
    long batchesBefore = forwardBatches();
    ExecutorService pool = Executors.newFixedThreadPool(64);
    try {
      List<Future<Reply>> replies = new ArrayList<>();
      List<String> keysAsked = new ArrayList<>();
      for (int round = 0; round < 8; round++) {
        for (HttpProbe node : http) {
          for (String key : asked) {
            keysAsked.add(key);
            replies.add(pool.submit(() -> node.get(keyPath(key), AUTH)));
          }
        }
      }
      for (int i = 0; i < replies.size(); i++) {
        Reply reply = replies.get(i).get(60, TimeUnit.SECONDS);
        Reply expected = atOwner.get(keysAsked.get(i));
        assertThat(reply.status())
            .as("%s: %s", keysAsked.get(i), reply)
            .isEqualTo(expected.status());
        assertThat(reply.header("X-Backbone-Node")).isEqualTo(expected.header("X-Backbone-Node"));
        assertThat(reply.body()).as(keysAsked.get(i)).isEqualTo(expected.body());
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(forwardBatches()).as("coalesced batches sent").isGreaterThan(batchesBefore);
  }

  private static String keyPath(String key) {
    return "/v1/stores/" + STORE + "/keys/" + key;
  }

  private static int nodeIndex(String nodeId) {
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i).nodeId().equals(nodeId)) {
        return i;
      }
    }
    throw new AssertionError("no node " + nodeId);
  }

  private static long forwardBatches() {
    return (long)
        nodes.stream()
            .mapToDouble(
                n ->
                    n.meterRegistry()
                        .get("backbone.http.forward.batches")
                        .functionCounter()
                        .count())
            .sum();
  }

  @Test
  @Order(4)
  void aBinaryReadThroughEveryNodeIsTheStoredBytesWithItsMetadataInHeaders() throws Exception {
    Map<String, String> binary = new HashMap<>(AUTH);
    binary.put("Accept", "application/octet-stream");
    for (HttpProbe node : http) {
      for (String key : KEYS.subList(0, 12)) {
        Reply reply = node.get("/v1/stores/" + STORE + "/keys/" + key, binary);
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        assertThat(reply.header("content-type"))
            .hasValueSatisfying(t -> assertThat(t).startsWith("application/octet-stream"));
        checkValue(key, MAPPER.readTree(reply.body()));
        Reply json = node.get("/v1/stores/" + STORE + "/keys/" + key, AUTH);
        assertThat(reply.header("X-Backbone-Partition"))
            .contains(json.json().get("partition").asText());
        assertThat(reply.header("X-Backbone-Node")).contains(json.json().get("node").asText());
        assertThat(reply.header("X-Backbone-Position")).isPresent();
        assertThat(reply.header("X-Backbone-Position"))
            .as("the position of the same state as the JSON read's")
            .contains(json.json().get("position").asText());
      }
      Reply missing = node.get("/v1/stores/" + STORE + "/keys/nobody", binary);
      assertError(missing, 404, "KEY_NOT_FOUND");
      assertThat(missing.header("content-type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    }
  }

  @Test
  @Order(5)
  void everyCallButHealthNeedsTheToken() {
    for (HttpProbe node : http) {
      for (String path :
          List.of(
              "/v1/stores",
              "/v1/stores/" + STORE + "/keys/c-01",
              "/v1/stores/" + STORE + "/range",
              "/v1/stores/" + STORE + "/prefix/c",
              "/v1/cluster",
              "/v1/routing",
              "/metrics")) {
        Reply none = node.get(path);
        assertThat(none.status()).as("%s without a token", path).isEqualTo(401);
        assertThat(none.errorCode()).isEqualTo("UNAUTHORIZED");
        assertThat(none.header("www-authenticate")).contains("Bearer");
        Reply wrong = node.get(path, Map.of("Authorization", "Bearer not-the-token"));
        assertThat(wrong.status()).as("%s with a wrong token", path).isEqualTo(403);
        assertThat(wrong.errorCode()).isEqualTo("FORBIDDEN");
        assertThat(node.get(path, AUTH).status()).as("%s with the token", path).isEqualTo(200);
      }
      Reply batch = node.post("/v1/stores/" + STORE + "/keys:batchGet", "{\"keys\":[]}", Map.of());
      assertThat(batch.status()).isEqualTo(401);
      assertThat(node.get("/health/live").status()).isEqualTo(200);
      assertThat(node.get("/health/ready").status()).isEqualTo(200);
    }
  }

  @Test
  @Order(6)
  void badScansAndBatchesGetTheDocumentedErrors() {
    HttpProbe node = http.get(1);
    String range = "/v1/stores/" + STORE + "/range";
    assertError(node.get(range + "?limit=0", AUTH), 400, "BAD_REQUEST");
    assertError(node.get(range + "?limit=ten", AUTH), 400, "BAD_REQUEST");
    Reply tooMany = node.get(range + "?limit=51", AUTH);
    assertError(tooMany, 400, "LIMIT_EXCEEDED");
    assertThat(tooMany.json().at("/error/message").asText())
        .contains("backbone.http.max.scan.limit");
    assertError(node.get(range + "?cursor=%21%21not-a-cursor", AUTH), 400, "BAD_CURSOR");
    String prefixCursor =
        node.get("/v1/stores/" + STORE + "/prefix/c-?limit=2", AUTH).json().get("cursor").asText();
    assertError(node.get(range + "?cursor=" + prefixCursor, AUTH), 400, "BAD_CURSOR");
    assertError(node.get(range + "?partition=6", AUTH), 400, "BAD_REQUEST");
    assertError(node.get(range + "?partition=-1", AUTH), 400, "BAD_REQUEST");
    assertError(node.get("/v1/stores/nope/range", AUTH), 404, "STORE_NOT_FOUND");
    String batch = "/v1/stores/" + STORE + "/keys:batchGet";
    assertError(node.post(batch, "not json", AUTH), 400, "BAD_REQUEST");
    assertError(node.post(batch, "{\"keys\":\"c-01\"}", AUTH), 400, "BAD_REQUEST");
    assertError(node.post(batch, "{\"keys\":[1]}", AUTH), 400, "BAD_REQUEST");
    String many =
        "{\"keys\":["
            + String.join(",", IntStream.range(0, 101).mapToObj(i -> "\"k\"").toList())
            + "]}";
    assertError(node.post(batch, many, AUTH), 400, "LIMIT_EXCEEDED");
    Reply big = node.post(batch, "{\"keys\":[\"" + "x".repeat(5000) + "\"]}", AUTH);
    assertError(big, 413, "BODY_TOO_LARGE");
    assertThat(big.json().at("/error/message").asText()).contains("backbone.http.max.body.bytes");
  }

  @Test
  @Order(7)
  void theJavaClientReadsEveryKeyStraightFromItsOwnerAndPagesThroughScans() {
    try (BackboneClient client =
        BackboneClient.builder()
            .bootstrap("http://127.0.0.1:" + nodes.get(0).httpPort())
            .authToken(TOKEN)
            .build()) {
      client.refreshRouting();
      for (String key : KEYS) {
        KeyResult result = client.get(STORE, key);
        assertThat(result.found()).as(key).isTrue();
        checkValue(key, result.value().orElseThrow());
        assertThat(result.position()).isNotEmpty();
      }
      MeterRegistry meters = client.meterRegistry();
      assertThat(meters.counter("backbone.client.misroutes").count())
          .as("every read went to the node that answered it")
          .isZero();
      assertThat(meters.timer("backbone.client.calls", "call", "get", "outcome", "ok").count())
          .isEqualTo(CUSTOMERS);

      List<BackboneClient.BatchResult> batch =
          client.batchGet(STORE, List.of("c-07", "nobody", "c-33"), ReadOptions.DEFAULT);
      assertThat(batch)
          .extracting(BackboneClient.BatchResult::key)
          .containsExactly("c-07", "nobody", "c-33");
      checkValue("c-07", batch.get(0).result().orElseThrow().value().orElseThrow());
      assertThat(batch.get(1).result().orElseThrow().found()).isFalse();
      checkValue("c-33", batch.get(2).result().orElseThrow().value().orElseThrow());

      List<String> seen = new ArrayList<>();
      String cursor = null;
      do {
        ScanPage page = client.range(STORE, "c-05", null, 9, cursor, ReadOptions.DEFAULT);
        page.items().forEach(i -> checkValue(i.key(), i.value()));
        page.items().forEach(i -> seen.add(i.key()));
        cursor = page.cursor().orElse(null);
      } while (cursor != null);
      assertThat(seen).containsExactlyElementsOf(KEYS.subList(5, CUSTOMERS));
      assertThat(client.prefix(STORE, "c-4", 50, null, ReadOptions.DEFAULT).items())
          .extracting(ScanPage.Item::key)
          .containsExactlyElementsOf(KEYS.subList(40, 50));

      assertThatThrownBy(() -> client.get("nope", "c-01"))
          .isInstanceOfSatisfying(
              BackboneClientException.class,
              e -> assertThat(e.code()).isEqualTo("STORE_NOT_FOUND"));
    }
    try (BackboneClient anonymous =
        BackboneClient.builder().bootstrap("http://127.0.0.1:" + nodes.get(1).httpPort()).build()) {
      assertThatThrownBy(() -> anonymous.get(STORE, "c-01"))
          .isInstanceOfSatisfying(
              BackboneClientException.class,
              e -> {
                assertThat(e.status()).isEqualTo(401);
                assertThat(e.isRetriable()).isFalse();
              });
      assertThat(anonymous.meterRegistry().counter("backbone.client.retries").count()).isZero();
    }
  }

  @Test
  @Order(8)
  void randomRequestsGetNoServerErrorButRetriableOnesAndNeverHang() throws Exception {
    long seed = Long.getLong("backbone.fuzz.seed", 20261202L);
    for (int i = 0; i < http.size(); i++) {
      new HttpFuzz(nodes.get(i).httpPort(), STORE, TOKEN, seed + i).run(400);
    }
  }

  @Test
  @Order(9)
  void aScanGoesOnThroughANodeLeavingBetweenPagesWithoutASkipOrARepeat() {
    List<String> seen = new ArrayList<>();
    Map<String, String> positions = new HashMap<>();
    String cursor = null;
    int page = 0;
    boolean stopped = false;
    do {
      if (page == 2 && !stopped) {
        for (String key : KEYS) {
          Reply read = http.get(0).get("/v1/stores/" + STORE + "/keys/" + key, AUTH);
          assertThat(read.status()).as("%s", read).isEqualTo(200);
          String position = read.json().get("position").asText();
          // Every replica knows the position of its data, restored or processed: a token that
          // names nothing would make minPosition meaningless.
          assertThat(PositionTokens.decode(position).isEmpty()).as("%s: %s", key, read).isFalse();
          positions.put(key, position);
        }
        nodes.get(2).close();
        stopped = true;
      }
      HttpProbe via = http.get(page % 2);
      String path = rangePath(5, cursor);
      // While node-c's partitions move a page may be refused with 503 + Retry-After, never
      // answered wrongly: every answer is looked at, the 503s too.
      Reply reply =
          await("page " + page + " after node-c left")
              .atMost(Duration.ofSeconds(90))
              .pollInterval(Duration.ofMillis(100))
              .until(
                  () -> via.get(path, AUTH),
                  r -> {
                    if (r.status() == 503) {
                      assertThat(r.header("retry-after")).as("%s", r).isPresent();
                      return false;
                    }
                    return true;
                  });
      cursor = checkPage(reply, page, seen);
      page++;
    } while (cursor != null);
    assertThat(seen).containsExactlyElementsOf(KEYS);

    // Read your writes across the move: each key's position token from before node-c left is
    // reached by the key's new owner, whose replica was restored or promoted, not written by it.
    for (String key : KEYS) {
      String path =
          "/v1/stores/"
              + STORE
              + "/keys/"
              + key
              + "?minPosition="
              + URLEncoder.encode(positions.get(key), StandardCharsets.UTF_8);
      Reply read =
          await("read of " + key + " at its position from before the move")
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(100))
              .until(
                  () -> http.get(key.hashCode() & 1).get(path, AUTH),
                  r -> {
                    assertThat(r.status()).as("%s", r).isIn(200, 503);
                    return r.status() == 200;
                  });
      checkValue(key, read.json().get("value"));
    }
  }

  @Test
  @Order(10)
  void eventsAppendedThroughEveryNodeAndTheClientAreCountedExactlyOnce() throws Exception {
    // Two nodes are left. Each batch: orders of distinct customers, one event with no key, one that
    // is not an object, and one of an unknown type (written; the pipeline sends it to its DLQ).
    Map<String, Integer> expectedOrders = new TreeMap<>();
    for (int round = 0; round < 2; round++) {
      HttpProbe via = http.get(round);
      List<String> events = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        String key = "e-" + round + "-" + (i % 4);
        expectedOrders.merge(key, 1, Integer::sum);
        events.add(event(key, "order", "sku-e" + i, "2.5"));
      }
      events.add("{\"type\":\"order\",\"amount\":1}");
      events.add("42");
      events.add(event("e-" + round + "-0", "teleport", "sku-x", "1"));
      Reply reply = via.post("/v1/events", "{\"events\":[" + String.join(",", events) + "]}", AUTH);
      assertThat(reply.status()).as("%s", reply).isEqualTo(200);
      JsonNode body = reply.json();
      assertThat(body.get("written").asInt()).isEqualTo(13);
      assertThat(body.get("failed").asInt()).isEqualTo(2);
      JsonNode results = body.get("results");
      assertThat(results.size()).isEqualTo(15);
      for (int i = 0; i < 15; i++) {
        JsonNode result = results.get(i);
        assertThat(result.get("index").asInt()).isEqualTo(i);
        if (i == 12 || i == 13) {
          assertThat(result.at("/error/code").asText()).as("%s", result).isEqualTo("BAD_EVENT");
          assertThat(result.get("status").asInt()).isEqualTo(400);
          assertThat(result.has("offset")).isFalse();
          continue;
        }
        String key = result.get("key").asText();
        assertThat(result.has("error")).as("%s", result).isFalse();
        assertThat(result.get("offset").asLong()).isNotNegative();
        assertThat(result.get("partition").asInt())
            .as("%s lands where the application's producer puts it", key)
            .isEqualTo(Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % 6);
      }
    }
    try (BackboneClient client =
        BackboneClient.builder()
            .bootstrap("http://127.0.0.1:" + nodes.get(0).httpPort())
            .authToken(TOKEN)
            .build()) {
      List<Map<String, Object>> events = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        String key = "e-client-" + (i % 3);
        expectedOrders.merge(key, 1, Integer::sum);
        events.add(
            Map.of(
                "customerId",
                key,
                "type",
                "order",
                "ts",
                1732500000000L,
                "sku",
                "s",
                "amount",
                2.5));
      }
      events.add(Map.of("type", "order"));
      EventsResult appended = client.appendEvents(null, events);
      assertThat(appended.written()).isEqualTo(6);
      assertThat(appended.failed()).isEqualTo(1);
      assertThat(appended.results().get(6).error()).contains("BAD_EVENT");
      assertThat(appended.results().subList(0, 6))
          .allSatisfy(e -> assertThat(e.written()).isTrue());
      assertThatThrownBy(() -> client.appendEvents("no-such-topic", events))
          .isInstanceOfSatisfying(
              BackboneClientException.class,
              e -> assertThat(e.code()).isEqualTo("EVENT_TOPIC_NOT_FOUND"));

      // Every answer along the way is checked: a profile may lag behind, never run ahead (an
      // event counted twice), and at the end each one holds exactly its orders.
      for (Map.Entry<String, Integer> expected : expectedOrders.entrySet()) {
        await("profile " + expected.getKey())
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(100))
            .until(
                () -> {
                  KeyResult read = client.get(STORE, expected.getKey());
                  if (!read.found()) {
                    return false;
                  }
                  long orders = read.value().get().at("/counts/order").asLong();
                  assertThat(orders).as(expected.getKey()).isLessThanOrEqualTo(expected.getValue());
                  assertThat(read.value().get().at("/counts/teleport").isMissingNode()).isTrue();
                  return orders == expected.getValue();
                });
      }
    }

    HttpProbe node = http.get(0);
    assertError(node.post("/v1/events", "{\"events\":[]}", Map.of()), 401, "UNAUTHORIZED");
    assertError(node.post("/v1/events", "not json", AUTH), 400, "BAD_REQUEST");
    assertError(node.post("/v1/events", "{\"events\":[]}", AUTH), 400, "BAD_REQUEST");
    assertError(node.post("/v1/events", "{\"events\":{}}", AUTH), 400, "BAD_REQUEST");
    assertError(
        node.post("/v1/events?topic=nope", "{\"events\":[{}]}", AUTH),
        404,
        "EVENT_TOPIC_NOT_FOUND");
    Reply tooMany =
        node.post(
            "/v1/events",
            "{\"events\":[" + String.join(",", Collections.nCopies(21, "{}")) + "]}",
            AUTH);
    assertError(tooMany, 400, "LIMIT_EXCEEDED");
    assertThat(tooMany.json().at("/error/message").asText())
        .contains("backbone.http.max.batch.events");
    assertError(node.send("GET", "/v1/events", AUTH), 405, "METHOD_NOT_ALLOWED");
  }

  /** Checks a page and every item on it; returns the next page's cursor, null after the last. */
  private static String checkPage(Reply reply, int page, List<String> seen) {
    assertThat(reply.status()).as("page %d: %s", page, reply).isEqualTo(200);
    JsonNode body = reply.json();
    assertThat(body.get("items").size()).as("page %d: %s", page, reply).isPositive();
    for (JsonNode item : body.get("items")) {
      String key = item.get("key").asText();
      if (!seen.isEmpty()) {
        assertThat(key).as("keys in order, none repeated").isGreaterThan(seen.get(seen.size() - 1));
      }
      checkValue(key, item.get("value"));
      seen.add(key);
    }
    assertThat(body.get("position").asText()).isNotEmpty();
    return body.hasNonNull("cursor") ? body.get("cursor").asText() : null;
  }

  private static void checkValue(String key, JsonNode value) {
    assertThat(value.get("customerId").asText()).isEqualTo(key);
    assertThat(value.at("/counts/view").asLong()).as("views of %s", key).isEqualTo(1);
    int i = Integer.parseInt(key.substring(2));
    assertThat(value.get("lastSkus").get(0).asText()).isEqualTo("sku-" + i);
  }

  private static void assertError(Reply reply, int status, String code) {
    assertThat(reply.status()).as("%s", reply).isEqualTo(status);
    assertThat(reply.errorCode()).as("%s", reply).isEqualTo(code);
  }

  private static String rangePath(int limit, String cursor) {
    return "/v1/stores/"
        + STORE
        + "/range?limit="
        + limit
        + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8));
  }

  private static List<String> keys(JsonNode page) {
    List<String> keys = new ArrayList<>();
    page.get("items").forEach(i -> keys.add(i.get("key").asText()));
    return keys;
  }

  private static List<String> fullScan(HttpProbe node, int limit) {
    Reply reply = node.get(rangePath(limit, null), AUTH);
    if (reply.status() != 200) {
      return List.of();
    }
    List<String> keys = keys(reply.json());
    String cursor = reply.json().hasNonNull("cursor") ? reply.json().get("cursor").asText() : null;
    while (cursor != null) {
      Reply next = node.get(rangePath(limit, cursor), AUTH);
      if (next.status() != 200) {
        return List.of();
      }
      keys.addAll(keys(next.json()));
      cursor = next.json().hasNonNull("cursor") ? next.json().get("cursor").asText() : null;
    }
    return keys;
  }
}
