package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.bootstrap.SnapshotLender;
import dev.backbone.config.BackboneConfig;
import dev.backbone.server.HttpProbe;
import dev.backbone.store.TestStoreContext;
import dev.backbone.store.internals.BackboneKeyValueStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The internal snapshot endpoints over real HTTP, serving a real store's snapshot: the secret, the
 * manifest, whole files and byte ranges, and every name or id that must not be served.
 */
class SnapshotEndpointsTest {
  private static final String SECRET = "0123456789abcdef-secret";
  private static final TaskId TASK = new TaskId(0, 1);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir Path dir;
  private BackboneKeyValueStore store;
  private SnapshotLender lender;
  private HttpApi api;
  private PrometheusMeterRegistry registry;
  private NodeMetrics metrics;
  private final HttpClient client = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    TestStoreContext context =
        new TestStoreContext(dir.resolve("task"), TASK, StreamsConfig.AT_LEAST_ONCE);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
    for (int i = 0; i < 2_000; i++) {
      store.put(Bytes.wrap(("key-" + i).getBytes(StandardCharsets.UTF_8)), new byte[100]);
    }
    store.commit(Map.of(new TopicPartition("app-s-changelog", 1), 1_999L));
    lender =
        new SnapshotLender(
            context.stores(),
            new SnapshotLender.Settings(2, Duration.ofMinutes(10), Duration.ZERO),
            Clock.systemUTC());
    api = server(Optional.of(SECRET));
  }

  private HttpApi server(Optional<String> secret) {
    Map<String, String> settings = new HashMap<>();
    settings.put("backbone.node.id", "node-t");
    settings.put("backbone.http.port", "0");
    secret.ifPresent(s -> settings.put("backbone.cluster.secret", s));
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    metrics = new NodeMetrics(registry, "node-t", () -> false);
    HttpApi server =
        new HttpApi(
            new FixedLocalNode("node-t", List.of()),
            BackboneConfig.of(settings),
            registry,
            metrics,
            List.of(),
            lender,
            Map::of,
            List.of());
    server.start();
    return server;
  }

  @AfterEach
  void stop() {
    api.close();
    metrics.close();
    lender.close();
    store.close();
  }

  private HttpResponse<byte[]> call(String method, String path, Map<String, String> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(20));
    headers.forEach(b::header);
    try {
      return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private HttpResponse<byte[]> get(String path, String... headers) {
    Map<String, String> h = new HashMap<>();
    h.put(SnapshotEndpoints.SECRET_HEADER, SECRET);
    for (int i = 0; i + 1 < headers.length; i += 2) {
      h.put(headers[i], headers[i + 1]);
    }
    return call("GET", path, h);
  }

  private static JsonNode json(HttpResponse<byte[]> response) {
    try {
      return MAPPER.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String code(HttpResponse<byte[]> response) {
    return json(response).path("error").path("code").asText();
  }

  private JsonNode lend() {
    HttpResponse<byte[]> r = get("/internal/v1/snapshots/0_1/s?application=app");
    assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    return json(r);
  }

  /** The largest file of the lent snapshot, with its manifest entry. */
  private static JsonNode largestFile(JsonNode loan) {
    JsonNode largest = null;
    for (JsonNode f : loan.path("manifest").path("files")) {
      if (largest == null || f.path("size").asLong() > largest.path("size").asLong()) {
        largest = f;
      }
    }
    return largest;
  }

  private static String fileUrl(JsonNode loan, String name) {
    return "/internal/v1/snapshots/0_1/s/" + loan.path("snapshotId").asText() + "/files/" + name;
  }

  private static String crc32c(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    return String.format("%08x", crc.getValue());
  }

  @Test
  void lendsTheManifestAndServesEveryListedFileWithItsChecksum() {
    JsonNode loan = lend();
    assertThat(loan.path("manifest").path("taskId").asText()).isEqualTo("0_1");
    assertThat(loan.path("manifest").path("changelogOffsets").get(0).path("offset").asLong())
        .isEqualTo(1_999L);
    assertThat(loan.path("expiresAt").asText()).isNotEmpty();

    for (JsonNode f : loan.path("manifest").path("files")) {
      HttpResponse<byte[]> r = get(fileUrl(loan, f.path("name").asText()));
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat((long) r.body().length).isEqualTo(f.path("size").asLong());
      assertThat(crc32c(r.body())).isEqualTo(f.path("crc32c").asText());
      assertThat(r.headers().firstValue("Accept-Ranges")).contains("bytes");
    }
  }

  @Test
  void aRangeResumesATransferWhereItStopped() {
    JsonNode loan = lend();
    JsonNode file = largestFile(loan);
    long size = file.path("size").asLong();
    assertThat(size).isGreaterThan(1_000);
    byte[] whole = get(fileUrl(loan, file.path("name").asText())).body();

    HttpResponse<byte[]> tail =
        get(fileUrl(loan, file.path("name").asText()), "Range", "bytes=1000-");
    assertThat(tail.statusCode()).isEqualTo(206);
    assertThat(tail.headers().firstValue("Content-Range"))
        .contains("bytes 1000-" + (size - 1) + "/" + size);
    assertThat(tail.body()).isEqualTo(Arrays.copyOfRange(whole, 1000, whole.length));

    HttpResponse<byte[]> middle =
        get(fileUrl(loan, file.path("name").asText()), "Range", "bytes=10-19");
    assertThat(middle.statusCode()).isEqualTo(206);
    assertThat(middle.body()).isEqualTo(Arrays.copyOfRange(whole, 10, 20));

    HttpResponse<byte[]> past =
        get(fileUrl(loan, file.path("name").asText()), "Range", "bytes=" + size + "-");
    assertThat(past.statusCode()).isEqualTo(416);
    assertThat(past.headers().firstValue("Content-Range")).contains("bytes */" + size);
  }

  @Test
  void withoutTheSecretNothingIsServed() {
    JsonNode loan = lend();
    String file = fileUrl(loan, largestFile(loan).path("name").asText());
    for (String path : List.of("/internal/v1/snapshots/0_1/s?application=app", file)) {
      HttpResponse<byte[]> none = call("GET", path, Map.of());
      assertThat(none.statusCode()).as(path).isEqualTo(401);
      assertThat(code(none)).isEqualTo("UNAUTHORIZED");
      HttpResponse<byte[]> wrong =
          call("GET", path, Map.of(SnapshotEndpoints.SECRET_HEADER, SECRET + "x"));
      assertThat(wrong.statusCode()).as(path).isEqualTo(403);
      assertThat(code(wrong)).isEqualTo("FORBIDDEN");
      assertThat(new String(wrong.body(), StandardCharsets.UTF_8)).doesNotContain(SECRET);
    }
    HttpResponse<byte[]> release =
        call(
            "DELETE", "/internal/v1/snapshots/0_1/s/" + loan.path("snapshotId").asText(), Map.of());
    assertThat(release.statusCode()).isEqualTo(401);
    assertThat(lender.loans()).hasSize(1);
  }

  @Test
  void aNodeWithoutAClusterSecretServesNoInternalCall() {
    api.close();
    metrics.close();
    api = server(Optional.empty());
    HttpResponse<byte[]> r = get("/internal/v1/snapshots/0_1/s?application=app");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(json(r).path("error").path("message").asText()).contains("backbone.cluster.secret");
    assertThat(lender.loans()).isEmpty();
  }

  @Test
  void namesOutsideTheManifestAreNeverServed() throws IOException {
    JsonNode loan = lend();
    String id = loan.path("snapshotId").asText();
    String listed = largestFile(loan).path("name").asText();
    HttpResponse<byte[]> manifest = get(fileUrl(loan, "backbone-snapshot.json"));
    assertThat(manifest.statusCode()).isEqualTo(404);
    assertThat(code(manifest)).isEqualTo("SNAPSHOT_FILE_UNKNOWN");

    Files.writeString(dir.resolve("secret.txt"), "not for peers");
    for (String raw :
        List.of(
            "/internal/v1/snapshots/0_1/s/" + id + "/files/..%2F..%2F..%2Fsecret.txt",
            "/internal/v1/snapshots/0_1/s/" + id + "/files/%2E%2E%2F" + listed,
            "/internal/v1/snapshots/0_1/s/" + id + "/files/../../../../secret.txt",
            "/internal/v1/snapshots/0_1/s/" + id + "/files/%2Fetc%2Fpasswd")) {
      HttpProbe.Reply reply =
          new HttpProbe(api.port()).getRaw(raw, Map.of(SnapshotEndpoints.SECRET_HEADER, SECRET));
      assertThat(reply.status()).as(raw).isIn(400, 404);
      assertThat(reply.body()).as(raw).doesNotContain("not for peers").doesNotContain("root:");
    }
  }

  @Test
  void aSnapshotIsServedOnlyUnderItsOwnTaskAndStore() {
    JsonNode loan = lend();
    String id = loan.path("snapshotId").asText();
    String listed = largestFile(loan).path("name").asText();
    HttpResponse<byte[]> otherTask = get("/internal/v1/snapshots/0_2/s/" + id + "/files/" + listed);
    assertThat(otherTask.statusCode()).isEqualTo(503);
    assertThat(code(otherTask)).isEqualTo("SNAPSHOT_GONE");
    HttpResponse<byte[]> otherApp = get("/internal/v1/snapshots/0_1/s?application=other");
    assertThat(otherApp.statusCode()).isEqualTo(503);
    assertThat(code(otherApp)).isEqualTo("STORE_NOT_HERE");
    HttpResponse<byte[]> noApp = get("/internal/v1/snapshots/0_1/s");
    assertThat(noApp.statusCode()).isEqualTo(400);
    HttpResponse<byte[]> badTask = get("/internal/v1/snapshots/zero/s?application=app");
    assertThat(badTask.statusCode()).isEqualTo(400);
    assertThat(code(badTask)).isEqualTo("BAD_REQUEST");
  }

  @Test
  void aReleasedSnapshotIsGone() {
    JsonNode loan = lend();
    String id = loan.path("snapshotId").asText();
    HttpResponse<byte[]> release =
        call(
            "DELETE",
            "/internal/v1/snapshots/0_1/s/" + id,
            Map.of(SnapshotEndpoints.SECRET_HEADER, SECRET));
    assertThat(release.statusCode()).isEqualTo(204);
    assertThat(lender.loans()).isEmpty();
    HttpResponse<byte[]> after = get(fileUrl(loan, largestFile(loan).path("name").asText()));
    assertThat(after.statusCode()).isEqualTo(503);
    assertThat(code(after)).isEqualTo("SNAPSHOT_GONE");
    assertThat(after.headers().firstValue("Retry-After")).isPresent();
  }
}
