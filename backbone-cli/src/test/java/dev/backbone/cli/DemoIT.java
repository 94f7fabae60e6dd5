package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The demo command itself, as a user runs it: says it is ready only when every node serves every
 * key, serves profiles over HTTP, starts without Kafka's configuration warnings, stops cleanly,
 * resumes.
 */
class DemoIT {
  private static final String PROFILE_OF_C0 = "/v1/stores/customer-profiles/keys/c-0";
  private static final int NODES = 3;
  private static final int CUSTOMERS = 50;

  /** Kafka Streams 4.4's StreamsConfig logs this for every config without the global switch. */
  private static final String GLOBAL_HANDLER_WARNING =
      "Processing exception handler is not enabled for the GlobalThread";

  @TempDir Path dataDir;

  @Test
  void saysReadyOnceEveryNodeServesEveryKeyStopsCleanlyAndResumes() throws Exception {
    int basePort = freePortRange(NODES);
    AtomicLong eventsSeenInFirstRun = new AtomicLong();
    Logger streamsConfigLog = (Logger) LoggerFactory.getLogger(StreamsConfig.class);
    ListAppender<ILoggingEvent> streamsConfigWarnings = new ListAppender<>();
    streamsConfigWarnings.start();
    streamsConfigLog.addAppender(streamsConfigWarnings);
    // Long enough for a slow start (the broker alone can take 20 s on a busy machine) and the
    // checks after the ready line, which must all happen while the demo still runs.
    CliRun first = runDemo(basePort, "80s");
    try {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> first.out().contains(DemoCluster.READY_LINE));

      // From the ready line on, no read of any customer on any node may be refused: rounds of
      // reads for at least five seconds.
      List<String> refused = new ArrayList<>();
      AtomicInteger rounds = new AtomicInteger();
      long readsFrom = System.nanoTime();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                refused.addAll(unansweredReads(basePort));
                rounds.incrementAndGet();
                return rounds.get() >= 2
                    && System.nanoTime() - readsFrom >= Duration.ofSeconds(5).toNanos();
              });
      assertThat(refused).as("reads refused after the ready line").isEmpty();

      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptionsInstanceOf(java.io.UncheckedIOException.class)
          .untilAsserted(
              () -> {
                for (int node = 0; node < NODES; node++) {
                  HttpJson.Response r = HttpJson.get(basePort + node, PROFILE_OF_C0);
                  assertThat(r.status()).isEqualTo(200);
                  assertThat(r.body().at("/value/customerId").asText()).isEqualTo("c-0");
                  eventsSeenInFirstRun.set(Math.max(eventsSeenInFirstRun.get(), events(r)));
                }
              });
      assertThat(first.exit().get(120, TimeUnit.SECONDS)).isZero();
      assertThat(first.out().lines().filter(DemoCluster.READY_LINE::equals)).hasSize(1);
    } finally {
      streamsConfigLog.detachAppender(streamsConfigWarnings);
      // The demo ends by its duration; the data directory must outlive its broker.
      first.exit().get(120, TimeUnit.SECONDS);
    }
    assertThat(streamsConfigWarnings.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .noneMatch(message -> message.contains(GLOBAL_HANDLER_WARNING));

    CliRun second = runDemo(basePort, "15s");
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptionsInstanceOf(java.io.UncheckedIOException.class)
          .untilAsserted(
              () -> {
                HttpJson.Response r = HttpJson.get(basePort, PROFILE_OF_C0);
                assertThat(r.status()).isEqualTo(200);
                assertThat(events(r)).isGreaterThanOrEqualTo(eventsSeenInFirstRun.get());
              });
    } finally {
      second.exit().get(120, TimeUnit.SECONDS);
    }
    assertThat(second.exit().join()).isZero();
  }

  /**
   * Every read of a customer on a node that was not answered with its profile or, from the key's
   * owner, 404 KEY_NOT_FOUND: status and error code, or the I/O failure.
   */
  private static List<String> unansweredReads(int basePort) {
    List<String> unanswered = new ArrayList<>();
    for (int node = 0; node < NODES; node++) {
      for (int customer = 0; customer < CUSTOMERS; customer++) {
        String path = "/v1/stores/customer-profiles/keys/c-" + customer;
        try {
          HttpJson.Response r = HttpJson.get(basePort + node, path);
          boolean answered =
              r.status() == 200
                  || (r.status() == 404
                      && r.body().at("/error/code").asText().equals("KEY_NOT_FOUND"));
          if (!answered) {
            unanswered.add("node-" + node + " c-" + customer + ": " + r.status() + " " + r.body());
          }
        } catch (java.io.UncheckedIOException e) {
          unanswered.add("node-" + node + " c-" + customer + ": " + e.getCause());
        }
      }
    }
    return unanswered;
  }

  private CliRun runDemo(int basePort, String duration) {
    return CliRun.start(
        "demo",
        "--duration",
        duration,
        "--data-dir",
        dataDir.toString(),
        "--http-port",
        Integer.toString(basePort),
        "--rate",
        "300",
        "--customers",
        Integer.toString(CUSTOMERS),
        "--partitions",
        "6",
        "--status-every",
        "5s");
  }

  private static long events(HttpJson.Response r) {
    long total = 0;
    for (var count : r.body().at("/value/counts")) {
      total += count.asLong();
    }
    return total;
  }

  /** A base port whose next {@code n} ports are free right now. */
  private static int freePortRange(int n) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base;
      try (ServerSocket s = new ServerSocket(0)) {
        base = s.getLocalPort();
      }
      if (base + n < 65535 && allFree(base, n)) {
        return base;
      }
    }
    throw new IOException("no range of " + n + " free ports found");
  }

  private static boolean allFree(int base, int n) {
    for (int p = base; p < base + n; p++) {
      try (ServerSocket s = new ServerSocket(p)) {
        s.setReuseAddress(true);
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }
}
