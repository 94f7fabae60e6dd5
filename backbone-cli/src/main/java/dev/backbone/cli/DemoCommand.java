package dev.backbone.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
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
      "port <http-port>+i. Runs until Ctrl-C, or for --duration. A second run on the same",
      "--data-dir resumes where the first stopped."
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
    var out = System.out;
    out.println("backbone demo: starting broker and " + nodes + " nodes ...");
    try (UntilStopped signal = new UntilStopped("demo");
        DemoCluster demo = DemoCluster.start(settings, out)) {
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
      out.println("stopping ...");
    }
    out.println("stopped cleanly");
    return 0;
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
