package dev.backbone.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.bench.BenchReport;
import dev.backbone.client.BackboneClient;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.StoreKind;
import dev.backbone.server.BackboneNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.client.api.Result;
import org.eclipse.jetty.client.util.BufferingResponseListener;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * {@code backbone bench query}: HTTP reads of a 3-node demo cluster (one process, embedded broker,
 * the load generator writing meanwhile) against Redis on the same machine in the same run.
 *
 * <p>Closed-loop throughput is measured with {@code wrk} (and, through the Java client, by threads
 * calling it in a loop) (Debian's package), the Redis anchor with {@code redis-benchmark}
 * (non-pipelined, same concurrency, a value of the same size as the profile answer). The latency at
 * a fixed rate is measured open-loop by this class: requests are sent on a fixed schedule whatever
 * the answers do, over Jetty's non-blocking client, and each latency runs from the moment the
 * schedule meant the request to leave, so a stall counts for every request it delays (no
 * coordinated omission).
 */
final class QueryBench {
  private static final String STORE = CustomerProfilePipeline.PROFILE_STORE;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern WRK_RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
  private static final Pattern WRK_PCT =
      Pattern.compile("^\\s+(50|99)%\\s+([0-9.]+)(us|ms|s)\\s*$", Pattern.MULTILINE);
  private static final Duration WARM_UP_ROUND = Duration.ofSeconds(5);
  private static final int WARM_UP_MAX_ROUNDS = 12;
  private static final int FIRST_WARM_UP_ROUNDS = 8;
  private static final double WARM_UP_GAIN = 0.05;
  private static final Pattern WRK_NON_2XX = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)");

  /** What to run. */
  record Spec(
      Duration duration,
      int concurrency,
      double rate,
      int customers,
      int fixedRate,
      int batchKeys,
      int scanLimit) {}

  private QueryBench() {}

  static void run(Spec spec, PrintStream out) throws Exception {
    for (String tool : List.of("wrk", "redis-server", "redis-benchmark")) {
      if (!onPath(tool)) {
        throw new IllegalStateException(
            tool
                + " is not installed; bench query needs wrk, redis-server and redis-benchmark:"
                + " apt-get install -y wrk redis-server redis-tools");
      }
    }
    Path dataDir = Files.createTempDirectory("backbone-bench-query");
    DemoCluster.Settings settings =
        new DemoCluster.Settings(
            3,
            3,
            spec.rate(),
            spec.customers(),
            dataDir,
            0,
            12,
            "exactly_once_v2",
            1L,
            0.0,
            StoreKind.BACKBONE);
    out.println("bench query: starting the broker and 3 nodes ...");
    BenchReport report =
        new BenchReport(
            "query",
            "redis-server GET (redis-benchmark -c "
                + spec.concurrency()
                + ", non-pipelined, same value size), same machine, same run");
    double redisBefore;
    double redisAfter;
    int valueBytes;
    double ownerRps;
    try (DemoCluster cluster = DemoCluster.start(settings, new PrintWriter(new StringWriter()))) {
      List<Integer> ports = cluster.nodes().stream().map(BackboneNode::httpPort).toList();
      awaitEveryKeyServed(ports, settings.partitions());
      Target owner = ownedKey(ports);
      int viaPort = ports.get((ports.indexOf(owner.port()) + 1) % ports.size());
      out.printf(
          "key %s: owner node at :%d, non-owner :%d, answer %d bytes%n",
          owner.key(), owner.port(), viaPort, owner.answerBytes());
      String keyPath = "/v1/stores/" + STORE + "/keys/" + owner.key();
      // The JIT is still at work after thousands of requests: warm every path first, unmeasured.
      String atOwnerUrl = "http://127.0.0.1:" + owner.port() + keyPath;
      String viaUrl = "http://127.0.0.1:" + viaPort + keyPath;
      String storeUrl = "http://127.0.0.1:" + ports.get(0) + "/v1/stores/" + STORE;
      String scanUrl = storeUrl + "/range?limit=" + spec.scanLimit();
      Path batchScript = batchScript(spec.batchKeys(), spec.customers(), dataDir);
      warm("GET at the owner", spec, atOwnerUrl, null, FIRST_WARM_UP_ROUNDS, out);
      warm("GET via a non-owner", spec, viaUrl, null, 3, out);
      warm("batch get", spec, storeUrl + "/keys:batchGet", batchScript, 3, out);
      warm("scan", spec, scanUrl, null, 3, out);
      // Redis twice, around the owner's run, and the better of the two is the anchor: the
      // cluster's own background work (the broker, 500 events/s through exactly-once stages)
      // takes from both, and a single measurement may have caught a burst of it.
      redisBefore = redisGet(spec, owner.answerBytes());
      Wrk atOwner = wrk(spec, atOwnerUrl, null);
      redisAfter = redisGet(spec, owner.answerBytes());
      double redis = Math.max(redisBefore, redisAfter);
      report.row(
          row(
              "redis GET (best of 2, cluster running)",
              "redis-benchmark",
              redis,
              Double.NaN,
              Double.NaN,
              1));
      report.row(row("GET at the owner", "wrk", atOwner.rps(), atOwner.p50(), atOwner.p99(), 1));
      // The floor of the HTTP stack on this machine: the same server answering its liveness
      // check, which reads nothing; what a GET costs above it is the read path's.
      String liveUrl = "http://127.0.0.1:" + owner.port() + "/health/live";
      warm("GET /health/live", spec, liveUrl, null, 3, out);
      Wrk live = wrk(spec, liveUrl, null);
      report.row(row("GET /health/live (no read)", "wrk", live.rps(), live.p50(), live.p99(), 1));
      Wrk forwarded = wrk(spec, viaUrl, null);
      report.row(
          row("GET via a non-owner", "wrk", forwarded.rps(), forwarded.p50(), forwarded.p99(), 1));
      ClientRun client = clientGets(spec, ports.get(0), owner.key(), out);
      report.row(
          row(
              "GET through the Java client",
              "BackboneClient, " + spec.concurrency() + " threads",
              client.rps(),
              client.p50(),
              client.p99(),
              1));
      Wrk batch = wrk(spec, storeUrl + "/keys:batchGet", batchScript);
      report.row(
          row(
              "batch get of " + spec.batchKeys() + " keys",
              "wrk",
              batch.rps(),
              batch.p50(),
              batch.p99(),
              spec.batchKeys()));
      Wrk scan = wrk(spec, scanUrl, null);
      report.row(
          row(
              spec.scanLimit() + "-key scan (12 partitions)",
              "wrk",
              scan.rps(),
              scan.p50(),
              scan.p99(),
              spec.scanLimit()));
      // unmeasured, so that the open-loop client's own code is compiled too
      openLoop(atOwnerUrl, spec.fixedRate(), WARM_UP_ROUND);
      OpenLoop fixed = openLoop(atOwnerUrl, spec.fixedRate(), spec.duration());
      report.row(openLoopRow("GET at the owner", spec.fixedRate(), fixed));
      // The same schedule on the liveness check: the tail the machine gives any answer (GC
      // pauses, the stream threads' and the broker's bursts on the same 2 cores), without a read.
      OpenLoop fixedLive = openLoop(liveUrl, spec.fixedRate(), spec.duration());
      report.row(openLoopRow("GET /health/live", spec.fixedRate(), fixedLive));
      report
          .summary(
              "tool", "wrk " + version("wrk", "-v") + "; open-loop Jetty client for the fixed rate")
          .summary("rps", round(atOwner.rps()))
          .summary("redis_rps", round(redis))
          .summary("ratio", ratio(atOwner.rps(), redis))
          .summary("forwarded_rps", round(forwarded.rps()))
          .summary("forwarded_ratio", ratio(forwarded.rps(), atOwner.rps()))
          .summary("batch_keys_per_sec", round(batch.rps() * spec.batchKeys()))
          .summary("scan_rps", round(scan.rps()))
          .summary("fixed_rate", spec.fixedRate())
          .summary("fixed_rate_errors", fixed.errors())
          .summary("p50_ms", round(fixed.p50()))
          .summary("p99_ms", round(fixed.p99()))
          .summary("client_rps", round(client.rps()))
          .summary("health_rps", round(live.rps()))
          .summary("health_p99_ms", round(fixedLive.p99()))
          .summary(
              "non_2xx", atOwner.non2xx() + forwarded.non2xx() + batch.non2xx() + scan.non2xx());
      valueBytes = owner.answerBytes();
      ownerRps = atOwner.rps();
    }
    // Redis once more with the cluster stopped, the machine otherwise idle: what the owner's rate
    // is against a Redis that has the machine to itself, the harder comparison.
    double idle = redisGet(spec, valueBytes);
    report.row(
        row("redis GET (cluster stopped)", "redis-benchmark", idle, Double.NaN, Double.NaN, 1));
    report
        .summary("redis_before_rps", round(redisBefore))
        .summary("redis_after_rps", round(redisAfter))
        .summary("redis_idle_rps", round(idle))
        .summary("ratio_vs_idle", ratio(ownerRps, idle));
    report.print(out);
  }

  private static Map<String, Object> row(
      String what, String tool, double rps, double p50, double p99, int keysPerCall) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("what", what);
    row.put("tool", tool);
    row.put("calls_per_sec", round(rps));
    row.put("keys_per_sec", round(rps * keysPerCall));
    row.put("p50_ms", Double.isNaN(p50) ? "-" : round(p50));
    row.put("p99_ms", Double.isNaN(p99) ? "-" : round(p99));
    return row;
  }

  private static Map<String, Object> openLoopRow(String what, int rate, OpenLoop run) {
    return row(
        what + ", open loop " + rate + "/s",
        "open-loop Jetty client",
        run.achievedRps(),
        run.p50(),
        run.p99(),
        1);
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static double ratio(double a, double b) {
    return b <= 0 ? 0 : Math.round(a / b * 1000) / 1000.0;
  }

  private static void awaitEveryKeyServed(List<Integer> ports, int partitions)
      throws InterruptedException {
    EveryKeyServed check =
        new EveryKeyServed(STORE, ports, EveryKeyServed.customerIdPerPartition(partitions));
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!check.holds()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the cluster did not serve every key within 3 minutes");
      }
      Thread.sleep(250);
    }
  }

  private record Target(String key, int port, int answerBytes) {}

  /** A customer with a profile, and the port of the node that owns it. */
  private static Target ownedKey(List<Integer> ports) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (int i = 0; i < 10_000; i++) {
      String key = "c-" + i;
      HttpResponse<String> reply =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:"
                              + ports.get(0)
                              + "/v1/stores/"
                              + STORE
                              + "/keys/"
                              + key))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (reply.statusCode() != 200) {
        continue;
      }
      JsonNode body = JSON.readTree(reply.body());
      int node = Integer.parseInt(body.get("node").asText().substring("node-".length()));
      return new Target(key, ports.get(node), reply.body().getBytes(StandardCharsets.UTF_8).length);
    }
    throw new IllegalStateException("no customer c-0..c-9999 has a profile yet");
  }

  private static double redisGet(Spec spec, int valueBytes) throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Process server =
        new ProcessBuilder(
                "redis-server",
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!exec("redis-cli", "-p", Integer.toString(port), "ping").contains("PONG")) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("redis-server did not start on port " + port);
        }
        Thread.sleep(100);
      }
      String p = Integer.toString(port);
      String c = Integer.toString(spec.concurrency());
      String d = Integer.toString(valueBytes);
      exec("redis-benchmark", "-p", p, "-c", c, "-d", d, "-t", "set", "-n", "10000", "-q");
      long requests = Math.max(100_000, spec.duration().toSeconds() * 30_000);
      String csv =
          exec(
              "redis-benchmark",
              "-p",
              p,
              "-c",
              c,
              "-d",
              d,
              "-t",
              "get",
              "-n",
              Long.toString(requests),
              "--csv");
      Matcher m = Pattern.compile("\"GET\",\"([0-9.]+)\"").matcher(csv);
      if (!m.find()) {
        throw new IllegalStateException("could not read redis-benchmark's output: " + csv);
      }
      return Double.parseDouble(m.group(1));
    } finally {
      server.destroy();
      server.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private record Wrk(double rps, double p50, double p99, long non2xx) {}

  /**
   * Runs {@code wrk} on a path, unmeasured, in rounds of {@link #WARM_UP_ROUND} until a round is no
   * longer {@link #WARM_UP_GAIN} faster than the best before it (at least {@code minRounds}, at
   * most {@link #WARM_UP_MAX_ROUNDS}): on 2 cores the JIT takes tens of seconds under load to
   * compile a read path, and a measurement that starts before it has is a measurement of the
   * compiler. While it compiles, and while the young cluster still moves tasks, a round can be
   * slower than the one before, so the first path (whose code every other path shares) runs {@link
   * #FIRST_WARM_UP_ROUNDS} rounds at least.
   */
  private static void warm(
      String what, Spec spec, String url, Path script, int minRounds, PrintStream out)
      throws Exception {
    Spec round = new Spec(WARM_UP_ROUND, spec.concurrency(), 0, 0, 0, 0, 0);
    warmUntilStable(what, minRounds, () -> wrk(round, url, script).rps(), out);
  }

  /** One unmeasured warm-up round of {@link #WARM_UP_ROUND}; gives its calls per second. */
  private interface WarmUpRound {
    double run() throws Exception;
  }

  /** Runs rounds until one is no longer {@link #WARM_UP_GAIN} faster than the best before it. */
  private static void warmUntilStable(
      String what, int minRounds, WarmUpRound round, PrintStream out) throws Exception {
    double best = 0;
    int rounds = 0;
    while (rounds < WARM_UP_MAX_ROUNDS) {
      double rps = round.run();
      rounds++;
      boolean stillClimbing = rps > best * (1 + WARM_UP_GAIN);
      best = Math.max(best, rps);
      if (rounds >= minRounds && !stillClimbing) {
        break;
      }
    }
    out.printf(
        "warm-up %s: %d rounds of %d s, best %.0f calls/s%n",
        what, rounds, WARM_UP_ROUND.toSeconds(), best);
  }

  private static Wrk wrk(Spec spec, String url, Path script) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "wrk",
                "-t2",
                "-c" + spec.concurrency(),
                "-d" + spec.duration().toSeconds() + "s",
                "--latency"));
    if (script != null) {
      cmd.add("-s");
      cmd.add(script.toString());
    }
    cmd.add(url);
    String output = exec(cmd.toArray(String[]::new));
    Matcher rps = WRK_RPS.matcher(output);
    if (!rps.find()) {
      throw new IllegalStateException("could not read wrk's output: " + output);
    }
    double p50 = Double.NaN;
    double p99 = Double.NaN;
    Matcher pct = WRK_PCT.matcher(output);
    while (pct.find()) {
      double v = Double.parseDouble(pct.group(2));
      double ms =
          switch (pct.group(3)) {
            case "us" -> v / 1000;
            case "s" -> v * 1000;
            default -> v;
          };
      if (pct.group(1).equals("50")) {
        p50 = ms;
      } else {
        p99 = ms;
      }
    }
    Matcher errors = WRK_NON_2XX.matcher(output);
    long non2xx = errors.find() ? Long.parseLong(errors.group(1)) : 0;
    return new Wrk(Double.parseDouble(rps.group(1)), p50, p99, non2xx);
  }

  private record ClientRun(double rps, double p50, double p99) {}

  /**
   * Closed loop through the Java client: {@code concurrency} threads, each reading the key again as
   * soon as it has the answer; the client finds the owner by its routing table.
   */
  private static ClientRun clientGets(Spec spec, int bootstrapPort, String key, PrintStream out)
      throws Exception {
    try (BackboneClient client =
        BackboneClient.builder().bootstrap("http://127.0.0.1:" + bootstrapPort).build()) {
      client.refreshRouting();
      // warmed as the wrk paths are, in unmeasured rounds until it stops getting faster
      warmUntilStable(
          "GET through the Java client",
          3,
          () -> clientLoop(client, key, spec.concurrency(), WARM_UP_ROUND).rps(),
          out);
      return clientLoop(client, key, spec.concurrency(), spec.duration());
    }
  }

  /** {@code concurrency} threads calling {@code client.get} in a loop for {@code duration}. */
  private static ClientRun clientLoop(
      BackboneClient client, String key, int concurrency, Duration duration)
      throws InterruptedException {
    long end = System.nanoTime() + duration.toNanos();
    List<long[]> perThread = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    AtomicLong calls = new AtomicLong();
    long start = System.nanoTime();
    for (int t = 0; t < concurrency; t++) {
      long[] latencies = new long[200_000];
      perThread.add(latencies);
      Thread thread =
          new Thread(
              () -> {
                int n = 0;
                while (System.nanoTime() < end && n < latencies.length - 1) {
                  long before = System.nanoTime();
                  client.get(STORE, key);
                  latencies[n++] = System.nanoTime() - before;
                }
                calls.addAndGet(n);
                latencies[latencies.length - 1] = n;
              },
              "bench-client-" + t);
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long[] all = new long[(int) calls.get()];
    int at = 0;
    for (long[] latencies : perThread) {
      int n = (int) latencies[latencies.length - 1];
      System.arraycopy(latencies, 0, all, at, n);
      at += n;
    }
    Arrays.sort(all);
    return new ClientRun(all.length / elapsed, percentileMs(all, 0.50), percentileMs(all, 0.99));
  }

  private static Path batchScript(int keys, int customers, Path dir) throws IOException {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < keys; i++) {
      names.add("\\\"c-" + (i * 7919L % customers) + "\\\"");
    }
    String body = "{\\\"keys\\\":[" + String.join(",", names) + "]}";
    Path script = dir.resolve("batch.lua");
    Files.writeString(
        script,
        "wrk.method = \"POST\"\n"
            + "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
            + "wrk.body = \""
            + body
            + "\"\n");
    return script;
  }

  private record OpenLoop(double achievedRps, double p50, double p99, long errors) {}

  /**
   * Sends GETs at {@code rate}/s for {@code duration} on a fixed schedule and measures each from
   * its scheduled time.
   */
  private static OpenLoop openLoop(String url, int rate, Duration duration) throws Exception {
    QueuedThreadPool threads = new QueuedThreadPool(8, 2);
    threads.setName("bench-open-loop");
    threads.setDaemon(true);
    org.eclipse.jetty.client.HttpClient client = new org.eclipse.jetty.client.HttpClient();
    client.setExecutor(threads);
    client.setMaxConnectionsPerDestination(256);
    client.setMaxRequestsQueuedPerDestination(1_000_000);
    client.start();
    try {
      // Warm the connections and the JIT for a second, outside the measurement.
      schedule(client, url, rate, Duration.ofSeconds(2));
      return schedule(client, url, rate, duration);
    } finally {
      client.stop();
    }
  }

  private static OpenLoop schedule(
      org.eclipse.jetty.client.HttpClient client, String url, int rate, Duration duration)
      throws InterruptedException {
    int total = (int) Math.min(Integer.MAX_VALUE, rate * duration.toSeconds());
    long[] latencies = new long[total];
    AtomicLong errors = new AtomicLong();
    CountDownLatch done = new CountDownLatch(total);
    long interval = 1_000_000_000L / rate;
    long start = System.nanoTime() + 1_000_000;
    for (int i = 0; i < total; i++) {
      long due = start + i * interval;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      int slot = i;
      client
          .newRequest(url)
          .timeout(10, TimeUnit.SECONDS)
          .send(
              new BufferingResponseListener() {
                @Override
                public void onComplete(Result result) {
                  latencies[slot] = System.nanoTime() - due;
                  if (result.isFailed() || result.getResponse().getStatus() != 200) {
                    errors.incrementAndGet();
                  }
                  done.countDown();
                }
              });
    }
    if (!done.await(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("open-loop requests still open 30 s after the schedule");
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long[] sorted = latencies.clone();
    Arrays.sort(sorted);
    return new OpenLoop(
        total / elapsed, percentileMs(sorted, 0.50), percentileMs(sorted, 0.99), errors.get());
  }

  /** The q-quantile of sorted nanosecond latencies, in milliseconds. */
  private static double percentileMs(long[] sortedNanos, double q) {
    return sortedNanos[Math.min(sortedNanos.length - 1, (int) (sortedNanos.length * q))] / 1e6;
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  private static String version(String... cmd) {
    try {
      String out = exec(cmd).lines().findFirst().orElse("").trim();
      Matcher m = Pattern.compile("(\\d+\\.\\d+(\\.\\d+)?)").matcher(out);
      return m.find() ? m.group(1) : out;
    } catch (Exception e) {
      return "unknown";
    }
  }

  private static String exec(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    p.waitFor();
    return new String(out, StandardCharsets.UTF_8);
  }
}
