package dev.backbone.testkit;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 API on a loopback port for integration tests: S3Proxy (jclouds' filesystem provider,
 * objects under a temporary directory) run as a child process from its self-contained jar, so its
 * shaded dependencies stay off the test's classpath. Requests must be signed (AWS v2 or v4) with
 * {@link #IDENTITY}/{@link #CREDENTIAL}.
 *
 * <p>Start one per test class and share it ({@code @BeforeAll}/{@code @AfterAll}); isolate tests by
 * bucket ({@link #createBucket}). The jar's path comes from the system property {@value
 * #JAR_PROPERTY}, which a module's build sets after copying {@code org.gaul:s3proxy} (classifier
 * {@code jar-with-dependencies}) into its target directory (see backbone-test-kit's pom).
 */
public final class S3ProxyServer implements AutoCloseable {
  /** The system property naming S3Proxy's {@code jar-with-dependencies}. */
  public static final String JAR_PROPERTY = "backbone.s3proxy.jar";

  /** The access key the server accepts. */
  public static final String IDENTITY = "backbone-test";

  /** The secret key the server accepts. */
  public static final String CREDENTIAL = "backbone-test-secret";

  /** The region clients sign for (S3Proxy accepts any). */
  public static final String REGION = "us-east-1";

  private static final Duration STARTUP = Duration.ofSeconds(60);

  private final Process process;
  private final URI endpoint;
  private final Path log;
  private final S3Client client;

  private S3ProxyServer(Process process, URI endpoint, Path log) {
    this.process = process;
    this.endpoint = endpoint;
    this.log = log;
    this.client =
        S3Client.builder()
            .httpClientBuilder(UrlConnectionHttpClient.builder())
            .endpointOverride(endpoint)
            .region(Region.of(REGION))
            .forcePathStyle(true)
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create(IDENTITY, CREDENTIAL)))
            .build();
  }

  /**
   * Starts S3Proxy on a free loopback port, storing objects under {@code workDir}, and waits until
   * it answers HTTP.
   *
   * @param workDir a directory of the test's own (its properties, log and objects go there)
   * @throws IllegalStateException if the jar is not configured, or the server does not answer
   *     within a minute (the message holds the end of its log)
   */
  public static S3ProxyServer start(Path workDir) throws IOException {
    String jar = System.getProperty(JAR_PROPERTY);
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException(
          "S3Proxy's jar is not at the system property "
              + JAR_PROPERTY
              + " ("
              + jar
              + "): let the module's build copy org.gaul:s3proxy:jar-with-dependencies into"
              + " target/ and pass its path, as backbone-test-kit's pom does");
    }
    Path objects = Files.createDirectories(workDir.resolve("objects"));
    int port = freeLoopbackPort();
    URI endpoint = URI.create("http://127.0.0.1:" + port);
    Path properties = workDir.resolve("s3proxy.properties");
    Files.write(
        properties,
        List.of(
            "s3proxy.endpoint=" + endpoint,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + IDENTITY,
            "s3proxy.credential=" + CREDENTIAL,
            // filesystem-nio2 (which S3Proxy recommends) needs extended attributes that /tmp may
            // lack (its multipart listing fails with "Unable to get size of extended attribute")
            "jclouds.provider=filesystem",
            "jclouds.filesystem.basedir=" + objects),
        StandardCharsets.UTF_8);
    Path log = workDir.resolve("s3proxy.log");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process process =
        new ProcessBuilder(
                java.toString(), "-Xmx256m", "-jar", jar, "--properties", properties.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    S3ProxyServer server = new S3ProxyServer(process, endpoint, log);
    try {
      Awaitility.await("S3Proxy answering at " + endpoint)
          .atMost(STARTUP)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> !process.isAlive() || answers(endpoint));
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "S3Proxy exited with " + process.exitValue() + ": " + server.logTail());
      }
    } catch (ConditionTimeoutException | IllegalStateException e) {
      server.close();
      throw new IllegalStateException(
          "S3Proxy did not start at " + endpoint + ": " + server.logTail(), e);
    }
    return server;
  }

  private static int freeLoopbackPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static boolean answers(URI endpoint) {
    try {
      HttpURLConnection connection = (HttpURLConnection) endpoint.toURL().openConnection();
      connection.setConnectTimeout(1000);
      connection.setReadTimeout(1000);
      try {
        return connection.getResponseCode() > 0; // any answer: unsigned requests get 403
      } finally {
        connection.disconnect();
      }
    } catch (IOException e) {
      return false;
    }
  }

  /** Where the server listens, e.g. {@code http://127.0.0.1:41234}. */
  public URI endpoint() {
    return endpoint;
  }

  /** A client of the server (path-style, signed with the test keys); closed with the server. */
  public S3Client client() {
    return client;
  }

  /** Creates an empty bucket; returns its name. */
  public String createBucket(String name) {
    client.createBucket(b -> b.bucket(Objects.requireNonNull(name, "name")));
    return name;
  }

  private String logTail() {
    try {
      String text = Files.readString(log);
      return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** Stops the server and waits for it to exit. */
  @Override
  public void close() {
    client.close();
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
