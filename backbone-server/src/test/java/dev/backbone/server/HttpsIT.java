package dev.backbone.server;

import static dev.backbone.server.ProfileNodes.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.client.BackboneClient;
import dev.backbone.client.BackboneClientException;
import dev.backbone.client.KeyResult;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes serving HTTPS only (a self-signed certificate for localhost and 127.0.0.1 made by the
 * JDK's keytool): reads through either node, forwarded between them over HTTPS, and through the
 * Java client; a plain-HTTP call and a client that does not trust the certificate get no answer.
 */
@BackboneKafkaCluster(brokers = 1)
class HttpsIT {
  private static final String STORE = CustomerProfilePipeline.PROFILE_STORE;
  private static final String PASSWORD = "https-it-secret";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final List<String> KEYS = List.of("c-1", "c-2", "c-3", "c-4", "c-5", "c-6");

  @TempDir static Path dir;
  private static final List<BackboneNode> nodes = new ArrayList<>();
  private static SSLContext trusting;
  private static TestKafkaCluster kafka;
  private static PipelineSettings settings;

  @BeforeAll
  static void startTwoHttpsNodes(TestKafkaCluster cluster) throws Exception {
    kafka = cluster;
    Path keystore = dir.resolve("node.p12");
    Path cert = dir.resolve("node.crt");
    Path truststore = dir.resolve("trust.p12");
    keytool(
        "-genkeypair",
        "-alias",
        "node",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=localhost",
        "-ext",
        "SAN=dns:localhost,ip:127.0.0.1",
        "-validity",
        "2",
        "-storetype",
        "PKCS12",
        "-keystore",
        keystore.toString(),
        "-storepass",
        PASSWORD);
    keytool(
        "-exportcert",
        "-alias",
        "node",
        "-keystore",
        keystore.toString(),
        "-storepass",
        PASSWORD,
        "-rfc",
        "-file",
        cert.toString());
    keytool(
        "-importcert",
        "-noprompt",
        "-alias",
        "cluster",
        "-file",
        cert.toString(),
        "-storetype",
        "PKCS12",
        "-keystore",
        truststore.toString(),
        "-storepass",
        PASSWORD);
    trusting = trustingContext(truststore);

    settings = ProfileNodes.createPipeline(kafka, "https-it", 4);
    Properties tls = new Properties();
    tls.setProperty("backbone.http.tls.keystore.path", keystore.toString());
    tls.setProperty("backbone.http.tls.keystore.password", PASSWORD);
    tls.setProperty("backbone.http.tls.truststore.path", truststore.toString());
    tls.setProperty("backbone.http.tls.truststore.password", PASSWORD);
    for (String id : List.of("tls-a", "tls-b")) {
      BackboneNode node =
          ProfileNodes.node(kafka, settings, id, Files.createTempDirectory("backbone-tls"), tls);
      nodes.add(node);
      node.start();
    }
    List<String[]> events = new ArrayList<>();
    KEYS.forEach(k -> events.add(new String[] {k, event(k, "view", "sku-" + k, "0")}));
    ProfileNodes.send(kafka, settings.inputTopic(), events);
  }

  @AfterAll
  static void closeNodes() {
    nodes.forEach(BackboneNode::close);
  }

  @Test
  void everyKeyIsReadOverHttpsThroughEitherNodeAndForwardedBetweenThem() {
    // Until the state stage has applied the events a 404 is the right answer; from then on every
    // key exists, and only a 503 (a task moving between the nodes) may be retried.
    String keyedEvents = new CustomerProfilePipeline(settings).keyedEventsTopic();
    await("the state stage committed every event")
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> kafka.hasCommittedToEnd(settings.applicationId(), keyedEvents));
    HttpClient https = HttpClient.newBuilder().sslContext(trusting).build();
    Set<String> servedByOther = new HashSet<>();
    for (int i = 0; i < nodes.size(); i++) {
      BackboneNode via = nodes.get(i);
      for (String key : KEYS) {
        URI uri =
            URI.create(
                "https://localhost:" + via.httpPort() + "/v1/stores/" + STORE + "/keys/" + key);
        HttpResponse<String> answer =
            await("read of " + key + " through " + via.nodeId())
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(200))
                .until(
                    () ->
                        https.send(
                            HttpRequest.newBuilder(uri).build(),
                            HttpResponse.BodyHandlers.ofString()),
                    r -> {
                      assertThat(r.statusCode()).as("%s", r.body()).isIn(200, 503);
                      return r.statusCode() == 200;
                    });
        JsonNode value = json(answer.body()).get("value");
        assertThat(value.get("customerId").asText()).isEqualTo(key);
        assertThat(value.at("/counts/view").asLong()).isEqualTo(1);
        String servedBy = answer.headers().firstValue("X-Backbone-Node").orElseThrow();
        if (!servedBy.equals(via.nodeId())) {
          servedByOther.add(key + "@" + via.nodeId());
        }
      }
    }
    assertThat(servedByOther)
        .as("some reads were forwarded to the other node, over HTTPS")
        .isNotEmpty();

    try (BackboneClient client =
        BackboneClient.builder()
            .bootstrap("https://localhost:" + nodes.get(0).httpPort())
            .sslContext(trusting)
            .build()) {
      for (String key : KEYS) {
        KeyResult read = client.get(STORE, key);
        assertThat(read.value().orElseThrow().get("customerId").asText()).isEqualTo(key);
      }
      assertThat(client.meterRegistry().counter("backbone.client.misroutes").count()).isZero();
    }
  }

  @Test
  void plainHttpAndAnUntrustedCertificateGetNoAnswer() {
    int port = nodes.get(0).httpPort();
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest overHttp =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/stores"))
            .timeout(Duration.ofSeconds(5))
            .build();
    int status;
    try {
      status = plain.send(overHttp, HttpResponse.BodyHandlers.ofString()).statusCode();
    } catch (IOException | InterruptedException e) {
      status = -1;
    }
    assertThat(status).as("a plain-HTTP call to an HTTPS-only node").isNotEqualTo(200);

    try (BackboneClient untrusting =
        BackboneClient.builder()
            .bootstrap("https://localhost:" + port)
            .retries(0, Duration.ZERO)
            .build()) {
      assertThatThrownBy(() -> untrusting.get(STORE, "c-1"))
          .isInstanceOfSatisfying(
              BackboneClientException.class, e -> assertThat(e.code()).isEqualTo("UNREACHABLE"));
    }
  }

  @Test
  void aKeystoreThatCannotBeReadIsABadConfigAtBuild() throws Exception {
    Properties tls = new Properties();
    tls.setProperty("backbone.http.tls.keystore.path", dir.resolve("node.p12").toString());
    tls.setProperty("backbone.http.tls.keystore.password", "wrong");
    PipelineSettings settings = ProfileNodes.createPipeline(kafka, "https-bad", 1);
    assertThatThrownBy(
            () ->
                ProfileNodes.node(
                    kafka, settings, "tls-bad", Files.createTempDirectory("tls-bad"), tls))
        .isInstanceOfSatisfying(
            FatalBackboneException.class,
            e -> {
              assertThat(e.code()).isEqualTo("BAD_CONFIG");
              assertThat(e.getMessage()).contains("node.p12", "backbone.http.tls");
            });
  }

  private static JsonNode json(String body) {
    try {
      return MAPPER.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }

  private static SSLContext trustingContext(Path truststore) throws Exception {
    KeyStore store = KeyStore.getInstance(truststore.toFile(), PASSWORD.toCharArray());
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return context;
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "keytool");
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("keytool finished").isTrue();
    assertThat(process.exitValue()).as("keytool %s: %s", args[0], output).isZero();
  }
}
