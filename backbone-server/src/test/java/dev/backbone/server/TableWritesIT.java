package dev.backbone.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.client.BackboneClient;
import dev.backbone.client.BackboneClientException;
import dev.backbone.client.KeyResult;
import dev.backbone.client.ReadOptions;
import dev.backbone.client.WriteResult;
import dev.backbone.examples.profiles.StoreKind;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.store.BackboneStores;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Writes through the HTTP API to a table fed by a topic, on two nodes under exactly-once: {@code
 * PUT} and {@code DELETE} go to the topic; with {@code wait=true} the answer carries the owner's
 * read at the write's position, through either node; the position token makes any later read, on
 * any node, see the write (read your writes). Every answer is checked.
 */
@BackboneKafkaCluster(brokers = 1)
class TableWritesIT {
  private static final String STAGE = "notes";
  private static final String STORE = "notes-table";
  private static final Duration STARTUP = Duration.ofSeconds(120);

  private static final List<BackboneNode> nodes = new ArrayList<>();
  private static final List<HttpProbe> http = new ArrayList<>();

  @BeforeAll
  static void startTwoNodes(TestKafkaCluster kafka) throws Exception {
    String topic = kafka.uniqueName("notes");
    String appId = kafka.uniqueName("notes-app");
    kafka.admin().createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
    for (String id : List.of("node-a", "node-b")) {
      Properties nodeProps = kafka.clientProperties();
      nodeProps.setProperty("backbone.node.id", id);
      nodeProps.setProperty("backbone.http.port", "0");
      nodeProps.setProperty(
          StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("backbone-w").toString());
      Properties stage = new Properties();
      stage.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, appId);
      stage.setProperty(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
      stage.setProperty(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
      stage.setProperty(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");
      stage.put(
          StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, StoreKind.BACKBONE.dslStoreSuppliers());
      stage.putAll(BackboneStores.streamsSettings());
      StreamsBuilder builder = new StreamsBuilder();
      builder.table(
          topic,
          Consumed.with(Serdes.String(), Serdes.String()),
          Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as(STORE)
              .withKeySerde(Serdes.String())
              .withValueSerde(Serdes.String()));
      BackboneNode node =
          BackboneNode.builder()
              .properties(nodeProps)
              .stage(new StreamsStage(STAGE, builder.build(), stage))
              .queryableStore(
                  QueryableStore.<String>withStringKeys(STORE, STAGE, Function.identity())
                      .withWrites(
                          new TopicWrites<>(
                              topic, TableWritesIT::noteOf, Serdes.String().serializer())))
              .build();
      nodes.add(node);
      node.start();
      http.add(new HttpProbe(node.httpPort()));
    }
    await("both nodes run")
        .atMost(STARTUP)
        .until(() -> nodes.stream().allMatch(BackboneNode::isReady));
  }

  /**
   * The first answer to {@code call} that is not a retriable 503 (a stage in one of the rebalances
   * that follow a start answers so, and a 503 is no answer to check): every other answer is
   * returned, and checked by the caller.
   */
  private static Reply answered(String what, Callable<Reply> call) {
    return await(what).atMost(STARTUP).until(call, r -> r.status() != 503);
  }

  /** A note is a JSON string; anything else is not a valid value. */
  private static String noteOf(JsonNode body) {
    if (!body.isTextual()) {
      throw new IllegalArgumentException("a note is a JSON string, not " + body.getNodeType());
    }
    return body.asText();
  }

  @AfterAll
  static void closeNodes() {
    nodes.forEach(BackboneNode::close);
  }

  @Test
  void aWaitedWriteAnswersWithTheOwnersReadOfItThroughEitherNode() {
    for (int i = 0; i < 20; i++) {
      String key = "k-" + i;
      String note = "\"note " + i + "\"";
      HttpProbe via = http.get(i % 2);
      Reply put =
          answered("put " + key, () -> via.send("PUT", path(key) + "?wait=true", note, Map.of()));
      assertThat(put.status()).as("%s", put).isEqualTo(200);
      JsonNode body = put.json();
      assertThat(body.get("op").asText()).isEqualTo("PUT");
      assertThat(body.get("waited").asBoolean()).isTrue();
      assertThat(body.at("/read/value").asText()).as("%s", put).isEqualTo("note " + i);
      String token = body.get("position").asText();
      // Read your writes on the other node too, by the token. A 503 is no answer (the stage may
      // be in one of the rebalances that follow a start): ask again; the first answer must hold.
      HttpProbe other = http.get((i + 1) % 2);
      Reply read =
          answered(
              "read " + key + " by its token",
              () -> other.get(path(key) + "?minPosition=" + encode(token)));
      assertThat(read.status()).as("%s", read).isEqualTo(200);
      assertThat(read.json().get("value").asText()).isEqualTo("note " + i);
    }
  }

  @Test
  void aDeleteIsReadAsGoneAtItsPositionAndAnUnwaitedWriteIsAccepted() {
    Reply put =
        answered(
            "put gone",
            () -> http.get(0).send("PUT", path("gone") + "?wait=true", "\"here\"", Map.of()));
    assertThat(put.status()).as("%s", put).isEqualTo(200);
    Reply accepted =
        answered("delete gone", () -> http.get(1).send("DELETE", path("gone"), "", Map.of()));
    assertThat(accepted.status()).as("%s", accepted).isEqualTo(202);
    assertThat(accepted.json().get("waited").asBoolean()).isFalse();
    assertThat(accepted.json().get("offset").asLong())
        .isGreaterThan(put.json().get("offset").asLong());
    String token = accepted.json().get("position").asText();
    for (HttpProbe node : http) {
      Reply read =
          answered("read gone", () -> node.get(path("gone") + "?minPosition=" + encode(token)));
      assertThat(read.status()).as("%s", read).isEqualTo(404);
      assertThat(read.errorCode()).isEqualTo("KEY_NOT_FOUND");
    }
    Reply waited =
        answered(
            "waited delete",
            () -> http.get(0).send("DELETE", path("gone") + "?wait=true", "", Map.of()));
    assertThat(waited.status()).as("%s", waited).isEqualTo(200);
    assertThat(waited.json().at("/read/error/code").asText()).isEqualTo("KEY_NOT_FOUND");
  }

  @Test
  void theJavaClientWritesReadsItsWritesAndDeletes() {
    try (BackboneClient client =
        BackboneClient.builder().bootstrap("http://127.0.0.1:" + nodes.get(1).httpPort()).build()) {
      for (int i = 0; i < 10; i++) {
        String key = "client-" + i;
        WriteResult written = client.put(STORE, key, "by client " + i, true);
        assertThat(written.read()).as(key).isPresent();
        assertThat(written.read().get().value().orElseThrow().asText()).isEqualTo("by client " + i);
        KeyResult read =
            client.get(STORE, key, ReadOptions.DEFAULT.withMinPosition(written.position()));
        assertThat(read.value().orElseThrow().asText()).isEqualTo("by client " + i);
      }
      WriteResult unwaited = client.put(STORE, "client-0", "second");
      assertThat(unwaited.read()).isEmpty();
      assertThat(
              client
                  .get(STORE, "client-0", ReadOptions.DEFAULT.withMinPosition(unwaited.position()))
                  .value()
                  .orElseThrow()
                  .asText())
          .isEqualTo("second");
      WriteResult deleted = client.delete(STORE, "client-0", true);
      assertThat(deleted.read().orElseThrow().found()).isFalse();
      assertThatThrownBy(() -> client.put(STORE, "client-1", Map.of("not", "a note")))
          .isInstanceOfSatisfying(
              BackboneClientException.class, e -> assertThat(e.code()).isEqualTo("BAD_VALUE"));
      assertThat(client.meterRegistry().counter("backbone.client.retries").count())
          .as("no write was sent twice")
          .isZero();
    }
  }

  @Test
  void badWritesGetTheDocumentedErrors() {
    HttpProbe node = http.get(0);
    Reply notJson = node.send("PUT", path("x"), "not json", Map.of());
    assertThat(notJson.status()).isEqualTo(400);
    assertThat(notJson.errorCode()).isEqualTo("BAD_VALUE");
    Reply wrongType = node.send("PUT", path("x"), "{\"a\":1}", Map.of());
    assertThat(wrongType.status()).isEqualTo(400);
    assertThat(wrongType.json().at("/error/message").asText()).contains("a note is a JSON string");
    Reply empty = node.send("PUT", path("x"), "", Map.of());
    assertThat(empty.errorCode()).isEqualTo("BAD_VALUE");
    Reply badWait = node.send("PUT", path("x") + "?wait=maybe", "\"v\"", Map.of());
    assertThat(badWait.errorCode()).isEqualTo("BAD_REQUEST");
    Reply unknown = node.send("PUT", "/v1/stores/nope/keys/x", "\"v\"", Map.of());
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(node.get(path("x")).status()).as("no bad write reached the table").isEqualTo(404);
  }

  private static String path(String key) {
    return "/v1/stores/" + STORE + "/keys/" + key;
  }

  private static String encode(String token) {
    return URLEncoder.encode(token, StandardCharsets.UTF_8);
  }
}
