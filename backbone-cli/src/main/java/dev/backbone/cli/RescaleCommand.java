package dev.backbone.cli;

import dev.backbone.rescale.RescalePlan;
import dev.backbone.rescale.RescalePlan.Step;
import dev.backbone.server.Rescaler;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.CommonClientConfigs;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code backbone rescale}: change the task count of a running application's keyed state. */
@Command(
    name = "rescale",
    mixinStandardHelpOptions = true,
    description = {
      "Takes a running application's keyed state stage from its task count to --partitions,",
      "carrying the state across. While ingest runs: snapshot, split by key, start the next",
      "generation. Then a short pause: pause ingest, drain, copy the old generation's last records",
      "to the new one, serve from it, resume. Every step is recorded in <app-id>-rescale before the",
      "next begins; after",
      "a crash or Ctrl-C run again with --resume (go on) or --abort (roll back, before SERVING)."
    })
final class RescaleCommand implements Callable<Integer> {
  @Spec private picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--app-id",
      required = true,
      description = "The application id (generation 0's state stage application id).")
  String applicationId;

  @Option(
      names = "--node",
      required = true,
      description = "Any node's URL, e.g. http://127.0.0.1:7070.")
  URI node;

  @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(
      names = "--cluster-secret",
      defaultValue = "${env:BACKBONE_CLUSTER_SECRET}",
      description = "The nodes' backbone.cluster.secret (default: $BACKBONE_CLUSTER_SECRET).")
  String clusterSecret;

  @Option(
      names = "--auth-token",
      defaultValue = "${env:BACKBONE_AUTH_TOKEN}",
      description = "The nodes' API token, if they require one (default: $BACKBONE_AUTH_TOKEN).")
  String authToken;

  @Option(
      names = "--stage",
      defaultValue = "state",
      description = "The keyed state stage's name on the nodes (default ${DEFAULT-VALUE}).")
  String stage;

  @Option(
      names = "--replication-factor",
      defaultValue = "-1",
      description =
          "Replication factor of the new topics; -1 = the brokers' default (default ${DEFAULT-VALUE}).")
  short replicationFactor;

  @Option(
      names = "--step-timeout",
      defaultValue = "10m",
      converter = DurationConverter.class,
      description = "How long one step may wait (default ${DEFAULT-VALUE}).")
  Duration stepTimeout;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Action action;

  static final class Action {
    @Option(names = "--partitions", description = "The new task count, 1 or more.")
    Integer partitions;

    @Option(names = "--resume", description = "Go on with the rescale that has not ended.")
    boolean resume;

    @Option(names = "--abort", description = "Roll back the rescale that has not ended.")
    boolean abort;
  }

  @Override
  public Integer call() throws Exception {
    if (clusterSecret == null || clusterSecret.isBlank()) {
      throw new ParameterException(
          spec.commandLine(), "--cluster-secret (or $BACKBONE_CLUSTER_SECRET) is required");
    }
    if (action.partitions != null && action.partitions < 1) {
      throw new ParameterException(
          spec.commandLine(), "--partitions must be 1 or more, not " + action.partitions);
    }
    if (node.getScheme() == null || node.getHost() == null) {
      throw new ParameterException(
          spec.commandLine(), "--node must be a URL like http://host:port");
    }
    Map<String, Object> kafka = new HashMap<>();
    kafka.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    PrintWriter out = spec.commandLine().getOut();
    ProgressPrinter progress = new ProgressPrinter(out);
    Thread hook =
        new Thread(
            () -> {
              out.println();
              out.println(
                  "backbone rescale: stopped during "
                      + progress.current()
                      + "; nothing is lost. Run again with --resume to go on, or --abort to roll back.");
              out.flush();
            });
    Runtime.getRuntime().addShutdownHook(hook);
    try (Rescaler rescaler =
        new Rescaler(
            new Rescaler.Settings(
                node,
                clusterSecret,
                authToken == null || authToken.isBlank() ? null : authToken,
                kafka,
                stage,
                replicationFactor,
                stepTimeout,
                applicationId),
            progress)) {
      RescalePlan plan =
          action.resume
              ? rescaler.resume()
              : action.abort ? rescaler.abort() : rescaler.start(action.partitions);
      out.println(
          "rescale of "
              + plan.applicationId()
              + " "
              + plan.fromPartitions()
              + " -> "
              + plan.toPartitions()
              + " tasks: "
              + plan.step()
              + " (generation "
              + (plan.step() == Step.CONFIRMED ? plan.toGeneration() : plan.fromGeneration())
              + " serves)");
      out.flush();
      return 0;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // The JVM is exiting: the hook runs.
      }
    }
  }

  /** One line per step, and a progress line (bar, bytes, rate, ETA) redrawn at most 4 times/s. */
  static final class ProgressPrinter implements Rescaler.Listener {
    private final PrintWriter out;
    private final AtomicReference<String> current = new AtomicReference<>("PLANNED");
    private long stepStartedNanos = System.nanoTime();
    private long lastDrawNanos;
    private boolean drawn;

    ProgressPrinter(PrintWriter out) {
      this.out = out;
    }

    String current() {
      return current.get();
    }

    @Override
    public synchronized void stepStarted(Step step, String what) {
      current.set(step.name());
      stepStartedNanos = System.nanoTime();
      endLine();
      out.printf(
          Locale.ROOT,
          "[%d/%d] %-13s %s%n",
          step.ordinal(),
          Step.CONFIRMED.ordinal(),
          step.name(),
          what);
      out.flush();
    }

    @Override
    public synchronized void progress(Step step, long done, long total, String text) {
      long now = System.nanoTime();
      if (drawn && now - lastDrawNanos < 250_000_000L) {
        return;
      }
      lastDrawNanos = now;
      double seconds = Math.max(1e-3, (now - stepStartedNanos) / 1e9);
      StringBuilder line = new StringBuilder("      ");
      if (total > 0 && done >= 0) {
        double fraction = Math.min(1, (double) done / total);
        int filled = (int) Math.round(fraction * 30);
        line.append('[')
            .append("#".repeat(filled))
            .append(".".repeat(30 - filled))
            .append("] ")
            .append(String.format(Locale.ROOT, "%3.0f%% ", fraction * 100));
        if (fraction > 0 && fraction < 1) {
          double eta = seconds * (1 - fraction) / fraction;
          line.append(String.format(Locale.ROOT, "ETA %.0fs ", eta));
        }
      } else if (done > 0) {
        line.append(bytes(done))
            .append(String.format(Locale.ROOT, " (%s/s) ", bytes((long) (done / seconds))));
      }
      line.append(text);
      out.print("\r" + pad(line.toString()));
      out.flush();
      drawn = true;
    }

    @Override
    public synchronized void stepDone(Step step, String note) {
      endLine();
      out.printf(
          Locale.ROOT,
          "      done in %.1fs: %s%n",
          (System.nanoTime() - stepStartedNanos) / 1e9,
          note);
      out.flush();
    }

    private void endLine() {
      if (drawn) {
        out.println();
        drawn = false;
      }
    }

    private static String pad(String s) {
      return s.length() >= 100 ? s : s + " ".repeat(100 - s.length());
    }

    static String bytes(long b) {
      if (b < 1024) {
        return b + " B";
      }
      if (b < 1024 * 1024) {
        return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
      }
      if (b < 1024L * 1024 * 1024) {
        return String.format(Locale.ROOT, "%.1f MiB", b / 1024.0 / 1024);
      }
      return String.format(Locale.ROOT, "%.2f GiB", b / 1024.0 / 1024 / 1024);
    }
  }
}
