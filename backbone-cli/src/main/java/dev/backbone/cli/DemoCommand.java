package dev.backbone.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code backbone demo}: broker, nodes and load generator in one process. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the whole demo: an embedded Kafka broker, N Backbone nodes on racks rack-a, rack-b, ...",
      "running the customer-profile pipeline, and a load generator. Node i serves HTTP on",
      "port <http-port>+i. Prints \"" + DemoCluster.READY_LINE + "\" once every node answers",
      "reads of every key. Runs until Ctrl-C, or for --duration; stops with status 1 if Kafka",
      "loses a generated event. A second run on the same --data-dir resumes where the first",
      "stopped."
    })
final class DemoCommand implements Callable<Integer> {
  @Mixin PipelineOptions pipelineOptions;

  @Spec private picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--nodes",
      defaultValue = "3",
      description = "Nodes to run (default ${DEFAULT-VALUE}).")
  int nodes;

  @Option(
      names = "--racks",
      defaultValue = "3",
      description = "Racks to spread nodes over (default ${DEFAULT-VALUE}).")
  int racks;

  @Option(
      names = "--rate",
      defaultValue = "2000",
      description = "Events per second (default ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--customers",
      defaultValue = "100000",
      description = "Distinct customers (default ${DEFAULT-VALUE}).")
  int customers;

  @Option(
      names = "--data-dir",
      defaultValue = "./data",
      description = "Where broker and node data live (default ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(
      names = "--http-port",
      defaultValue = "7070",
      description = "HTTP port of node 0; node i gets this + i (default ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(
      names = "--duration",
      converter = DurationConverter.class,
      description = "Stop cleanly after this long (e.g. 60s, 5m); default: run until Ctrl-C.")
  Duration duration;

  @Option(
      names = "--bad-ratio",
      defaultValue = "0.01",
      description = "Share of malformed events, 0..1 (default ${DEFAULT-VALUE}).")
  double badRatio;

  @Option(
      names = "--status-every",
      defaultValue = "5s",
      converter = DurationConverter.class,
      description = "How often to print the status line (default ${DEFAULT-VALUE}).")
  Duration statusEvery;

  @Override
  public Integer call() throws Exception {
    validate();
    DemoCluster.Settings settings =
        new DemoCluster.Settings(
            nodes,
            racks,
            rate,
            customers,
            dataDir,
            httpPort,
            pipelineOptions.partitions,
            pipelineOptions.guarantee,
            System.nanoTime(),
            badRatio,
            pipelineOptions.store);
    PrintWriter out = spec.commandLine().getOut();
    out.println("backbone demo: starting broker and " + nodes + " nodes ...");
    Throwable loadFailure;
    try (UntilStopped signal = new UntilStopped("demo");
        DemoCluster demo = DemoCluster.start(settings, out)) {
      // The load runs until the demo stops it; if it ends by itself, events were lost: stop now.
      demo.loadRun().whenComplete((report, failure) -> signal.stop());
      out.println(
          "running"
              + (duration == null ? " until Ctrl-C" : " for " + duration.toSeconds() + "s")
              + "; status every "
              + statusEvery.toSeconds()
              + "s");
      long deadline = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
      while (true) {
        long wait = Math.min(statusEvery.toNanos(), deadline - System.nanoTime());
        if (wait <= 0 || signal.await(Duration.ofNanos(wait))) {
          break;
        }
        out.println(demo.statusLine());
      }
      loadFailure = failureOf(demo.loadRun());
      out.println(loadFailure == null ? "stopping ..." : "stopping: the load generator failed");
    }
    if (loadFailure != null) {
      throw loadFailure instanceof RuntimeException e ? e : new IllegalStateException(loadFailure);
    }
    out.println("stopped cleanly");
    return 0;
  }

  /** Why the run failed, or null if it has not ended or ended cleanly. */
  private static Throwable failureOf(CompletableFuture<?> run) {
    if (!run.isCompletedExceptionally()) {
      return null;
    }
    try {
      run.join();
      return null;
    } catch (CompletionException e) {
      return e.getCause();
    }
  }

  private void validate() {
    var problems = new java.util.ArrayList<String>();
    if (nodes < 1 || nodes > 50) problems.add("--nodes must be 1..50, got " + nodes);
    if (racks < 1) problems.add("--racks must be at least 1, got " + racks);
    if (rate < 0) problems.add("--rate must be >= 0, got " + rate);
    if (customers < 1) problems.add("--customers must be at least 1, got " + customers);
    if (httpPort < 0 || httpPort + nodes > 65535)
      problems.add("--http-port out of range: " + httpPort);
    if (pipelineOptions.partitions < 1)
      problems.add("--partitions must be at least 1, got " + pipelineOptions.partitions);
    if (badRatio < 0 || badRatio > 1)
      problems.add("--bad-ratio must be within 0..1, got " + badRatio);
    if (!problems.isEmpty()) {
      throw new ParameterException(spec.commandLine(), String.join("; ", problems));
    }
  }
}
