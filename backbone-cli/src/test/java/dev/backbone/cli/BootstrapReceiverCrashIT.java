package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.config.BackboneConfig;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.server.BackboneNode;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node killed with SIGKILL in the middle of copying a peer's snapshot, on a real broker under
 * exactly-once and continuous checked reads: the half copy it leaves is deleted when it comes back,
 * the copy starts afresh and installs, the lender's lease of the killed borrower runs out instead
 * of holding the snapshot forever, and every profile through every node ends equal to the oracle.
 */
@BackboneKafkaCluster(brokers = 1)
class BootstrapReceiverCrashIT {
  private static final int CUSTOMERS = 2_000;
  private static final long EVENTS = 6_000;
  private static final String SECRET = "receiver-crash-it-secret";
  private static final Pattern COPIED =
      Pattern.compile("(?m)^backbone_bootstrap_copied_total(?:\\{[^}]*\\})? ([0-9.E+]+)$");
  private static final Pattern LENT =
      Pattern.compile("(?m)^backbone_bootstrap_snapshots_lent(?:\\{[^}]*\\})? ([0-9.E+]+)$");

  @TempDir Path stateRoot;
  private BackboneNode lender;
  private ChildNode child;

  @AfterEach
  void stop() throws InterruptedException {
    if (child != null) {
      child.killIfAlive();
    }
    if (lender != null) {
      lender.close();
    }
  }

  private static double metric(Pattern pattern, int port) {
    Matcher m = pattern.matcher(HttpJson.getText(port, "/metrics"));
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  private ChildNode startReceiver(TestKafkaCluster kafka, String appId, String run)
      throws IOException {
    Path dir = stateRoot.resolve("node-1");
    return ChildNode.start(
        dir,
        run,
        kafka.bootstrapServers(),
        appId,
        dir.toString(),
        "exactly_once_v2",
        "node-1",
        "rack-b",
        "1",
        "1",
        "10000", // session timeout: the killed member leaves the group in 10 s, not 45
        BackboneConfig.CLUSTER_SECRET_CONFIG + "=" + SECRET,
        BackboneConfig.BOOTSTRAP_MIN_LAG_RECORDS_CONFIG + "=1",
        // Slow enough to be killed in the middle: a few hundred KB at 40 KB/s.
        BackboneConfig.BOOTSTRAP_THROTTLE_BYTES_PER_SEC_CONFIG + "=40000");
  }

  /** Half copies ({@code .bootstrap-*}) under the receiver's state directory. */
  private List<Path> halfCopies() throws IOException {
    Path root = stateRoot.resolve("node-1");
    if (!Files.exists(root)) {
      return List.of();
    }
    try (Stream<Path> paths = Files.walk(root)) {
      return new ArrayList<>(
          paths
              .filter(Files::isDirectory)
              .filter(p -> p.getFileName().toString().startsWith(".bootstrap-"))
              .toList());
    }
  }

  @Test
  void aReceiverKilledMidCopyStartsAfreshWhenItComesBackAndNothingIsLost(TestKafkaCluster kafka)
      throws Exception {
    CustomerProfilePipeline pipeline = ProfileFixtures.exactlyOncePipeline(kafka, "rcvcrash", 1);
    String appId = pipeline.settings().applicationId();
    Properties lenderSettings = new Properties();
    lenderSettings.put(BackboneConfig.CLUSTER_SECRET_CONFIG, SECRET);
    lenderSettings.put(BackboneConfig.BOOTSTRAP_SNAPSHOT_LEASE_MS_CONFIG, "25000");
    lender = ProfileFixtures.startNode(pipeline, kafka, stateRoot, 0, "rack-a", 1, lenderSettings);

    List<Map.Entry<String, String>> events =
        ProfileFixtures.knownEvents(pipeline.settings().inputTopic(), CUSTOMERS, EVENTS, 17L, 0.0);
    ProfileOracle oracle = ProfileOracle.of(events);
    ReadChecker<JsonNode> checker = new ReadChecker<>(oracle);
    ProfileFixtures.produceCommitted(kafka, pipeline, events, checker);

    try (ContinuousReads reads =
        ProfileFixtures.readContinuously(
            checker, () -> List.of(lender.httpPort()), oracle.profiles().keySet())) {
      child = startReceiver(kafka, appId, "first");
      int port = child.port();
      await("the receiver is in the middle of copying its standby from node-0")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                JsonNode copies =
                    HttpJson.get(port, "/v1/cluster?lags=true").body().path("bootstraps");
                for (JsonNode c : copies) {
                  long done = c.path("bytesDone").asLong();
                  long total = c.path("bytesTotal").asLong();
                  if ("copying".equals(c.path("phase").asText()) && done > 0 && done < total / 2) {
                    return true;
                  }
                }
                return false;
              });
      child.kill();
      List<Path> left = halfCopies();
      assertThat(left).as("the killed receiver left its half copy behind").isNotEmpty();
      assertThat(metric(LENT, lender.httpPort()))
          .as("node-0 still holds the snapshot lent to the killed receiver")
          .isGreaterThanOrEqualTo(1);

      child = startReceiver(kafka, appId, "second");
      int again = child.port();
      await("the restarted receiver copied its standby afresh")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> metric(COPIED, again) >= 1);
      for (Path p : left) {
        assertThat(p).as("the half copy of the killed run is deleted").doesNotExist();
      }
      assertThat(halfCopies()).as("and no copy is left once installed").isEmpty();
      await("node-0's lease of the killed receiver's snapshot ran out")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> metric(LENT, lender.httpPort()) == 0);
      await("every profile through both nodes")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () ->
                  ProfileFixtures.assertEveryProfileThroughEveryNode(
                      Map.of("node-0", lender.httpPort(), "node-1", again), oracle, checker));
      assertThat(reads.completed()).isPositive();
    }
    checker.assertNoViolations();
  }
}
