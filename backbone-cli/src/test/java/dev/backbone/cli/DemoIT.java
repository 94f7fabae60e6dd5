package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo command itself, as a user runs it: serves profiles over HTTP, stops cleanly, resumes.
 */
class DemoIT {
  private static final String PROFILE_OF_C0 = "/v1/stores/customer-profiles/keys/c-0";

  @TempDir Path dataDir;

  @Test
  void servesProfilesStopsCleanlyAndResumesOnTheSameDataDir() throws Exception {
    int basePort = freePortRange(3);
    AtomicLong eventsSeenInFirstRun = new AtomicLong();

    CompletableFuture<Integer> first = runDemo(basePort, "25s");
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptionsInstanceOf(java.io.UncheckedIOException.class)
        .untilAsserted(
            () -> {
              for (int node = 0; node < 3; node++) {
                HttpJson.Response r = HttpJson.get(basePort + node, PROFILE_OF_C0);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body().at("/value/customerId").asText()).isEqualTo("c-0");
                eventsSeenInFirstRun.set(Math.max(eventsSeenInFirstRun.get(), events(r)));
              }
            });
    assertThat(first.get(90, TimeUnit.SECONDS)).isZero();

    CompletableFuture<Integer> second = runDemo(basePort, "15s");
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
    assertThat(second.get(90, TimeUnit.SECONDS)).isZero();
  }

  private CompletableFuture<Integer> runDemo(int basePort, String duration) {
    return CompletableFuture.supplyAsync(
        () ->
            BackboneCli.execute(
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
                "50",
                "--partitions",
                "6",
                "--status-every",
                "5s"));
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
