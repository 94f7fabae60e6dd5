package dev.backbone.cli;

import dev.backbone.bench.assignment.AssignmentSizeBenchmark;
import dev.backbone.bench.assignor.AssignorBenchmark;
import dev.backbone.bench.bootstrap.BootstrapBench;
import dev.backbone.bench.changelog.ChangelogDiskBench;
import dev.backbone.bench.snapshot.SnapshotBench;
import dev.backbone.bench.store.StoreBench;
import dev.backbone.bench.throughput.ThroughputBenchmark;
import dev.backbone.examples.profiles.StoreKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code backbone bench}: the macro-benchmarks. Each prints a table, then one JSON line last. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Macro-benchmarks; each prints a table, then one JSON line as its last output.",
    subcommands = {
      BenchCommand.Throughput.class,
      BenchCommand.Store.class,
      BenchCommand.Assignor.class,
      BenchCommand.AssignmentSize.class,
      BenchCommand.SnapshotTime.class,
      BenchCommand.Bootstrap.class,
      BenchCommand.Query.class,
      BenchCommand.Rescale.class,
      BenchCommand.ChangelogDisk.class
    })
final class BenchCommand implements Runnable {
  @Spec private CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "name a benchmark, e.g. 'bench throughput'");
  }

  @Command(
      name = "throughput",
      mixinStandardHelpOptions = true,
      description = {
        "End-to-end events/s of the customer-profile pipeline on one node with an embedded broker,",
        "per processing guarantee and store kind, with the Backbone/stock ratio."
      })
  static final class Throughput implements Callable<Integer> {
    @Spec private CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--events",
        defaultValue = "300000",
        description = "Events per run (default ${DEFAULT-VALUE}).")
    long events;

    @Option(
        names = "--customers",
        defaultValue = "100000",
        description = "Distinct customers (default ${DEFAULT-VALUE}).")
    int customers;

    @Option(
        names = "--partitions",
        defaultValue = "6",
        description = "Partitions per topic (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(
        names = "--guarantees",
        split = ",",
        defaultValue = "exactly_once_v2,at_least_once",
        converter = GuaranteeConverter.class,
        description = "Guarantees to run, comma separated (default ${DEFAULT-VALUE}).")
    List<String> guarantees;

    @Option(
        names = "--store",
        split = ",",
        defaultValue = "stock,backbone",
        converter = StoreKindConverter.class,
        description =
            "Store kinds to run per guarantee, comma separated; with both, the Backbone/stock"
                + " ratio is reported (default ${DEFAULT-VALUE}).")
    List<StoreKind> stores;

    @Option(
        names = "--timeout",
        defaultValue = "10m",
        converter = DurationConverter.class,
        description = "Give up on a run after this long (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
      if (events < 1 || customers < 1 || partitions < 1) {
        throw new ParameterException(
            spec.commandLine(), "--events, --customers and --partitions must be at least 1");
      }
      ThroughputBenchmark.run(
          new ThroughputBenchmark.Spec(events, customers, partitions, guarantees, stores, timeout),
          System.out);
      return 0;
    }
  }

  @Command(
      name = "query",
      mixinStandardHelpOptions = true,
      description = {
        "HTTP reads of a 3-node demo cluster (embedded broker, events flowing) against Redis on",
        "the same machine: GET at the owner and through a non-owner (wrk), batch get, a scan,",
        "and p50/p99 at a fixed open-loop rate. Needs wrk, redis-server and redis-benchmark."
      })
  static final class Query implements Callable<Integer> {
    @Spec private CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--duration",
        defaultValue = "30s",
        converter = DurationConverter.class,
        description = "Length of each measurement (default ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(
        names = "--concurrency",
        defaultValue = "64",
        description = "Open connections of wrk and redis-benchmark (default ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(
        names = "--rate",
        defaultValue = "500",
        description = "Events per second written meanwhile (default ${DEFAULT-VALUE}).")
    double rate;

    @Option(
        names = "--customers",
        defaultValue = "10000",
        description = "Distinct customers (default ${DEFAULT-VALUE}).")
    int customers;

    @Option(
        names = "--fixed-rate",
        defaultValue = "5000",
        description = "GET/s of the open-loop latency run (default ${DEFAULT-VALUE}).")
    int fixedRate;

    @Override
    public Integer call() throws Exception {
      if (duration.toSeconds() < 1 || concurrency < 1 || customers < 1 || fixedRate < 1) {
        throw new ParameterException(
            spec.commandLine(),
            "--duration must be at least 1s, and --concurrency, --customers, --fixed-rate at"
                + " least 1");
      }
      if (rate <= 0) {
        // The load generator takes 0 as "as fast as possible"; here the events are both the data
        // read and the background load, so a rate is required.
        throw new ParameterException(
            spec.commandLine(), "--rate must be positive (events/s written while reads run)");
      }
      QueryBench.run(
          new QueryBench.Spec(duration, concurrency, rate, customers, fixedRate, 100, 100),
          System.out);
      return 0;
    }
  }

  @Command(
      name = "store",
      mixinStandardHelpOptions = true,
      description = {
        "JMH: Backbone's store vs Kafka Streams' RocksDB store (put+commit, get hit/miss,",
        "READ_COMMITTED IQv2 key reads as an HTTP GET makes them, range scan) in one run, with",
        "the Backbone/stock ratio per operation."
      })
  static final class Store implements Callable<Integer> {
    @Option(
        names = "--iterations",
        defaultValue = "3",
        description = "Measurement iterations per benchmark (default ${DEFAULT-VALUE}).")
    int iterations;

    @Option(
        names = "--seconds",
        defaultValue = "2",
        description = "Seconds per iteration (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(
        names = "--forks",
        defaultValue = "2",
        description =
            "JVM forks per benchmark (default ${DEFAULT-VALUE}); one fork leaves the JIT's luck"
                + " of a single run in the ratios.")
    int forks;

    @Override
    public Integer call() throws Exception {
      StoreBench.run(Math.max(1, iterations), Math.max(1, seconds), Math.max(1, forks), System.out);
      return 0;
    }
  }

  @Command(
      name = "assignor",
      mixinStandardHelpOptions = true,
      description = {
        "Backbone's rack-aware assignment next to stock Kafka Streams' on one simulated cluster:",
        "compute time, rack violations, balance spread, tasks moved when one node leaves."
      })
  static final class Assignor implements Callable<Integer> {
    @Spec private CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--clients",
        defaultValue = "1200",
        description = "Kafka Streams clients (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(
        names = "--threads",
        defaultValue = "3",
        description = "Stream threads per client (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(
        names = "--tasks",
        defaultValue = "10000",
        description = "Stateful tasks (default ${DEFAULT-VALUE}).")
    int tasks;

    @Option(
        names = "--standbys",
        defaultValue = "1",
        description = "Standbys per task (default ${DEFAULT-VALUE}).")
    int standbys;

    @Option(
        names = "--racks",
        defaultValue = "3",
        description = "Racks, clients spread round robin (default ${DEFAULT-VALUE}).")
    int racks;

    @Override
    public Integer call() {
      if (clients < 1 || threads < 1 || tasks < 1 || racks < 1 || standbys < 0) {
        throw new ParameterException(
            spec.commandLine(),
            "--clients, --threads, --tasks and --racks must be at least 1, --standbys at least 0");
      }
      AssignorBenchmark.run(
          new AssignorBenchmark.Spec(clients, threads, tasks, standbys, racks), System.out);
      return 0;
    }
  }

  @Command(
      name = "assignment-size",
      mixinStandardHelpOptions = true,
      description = {
        "Bytes one rebalance ships: stock Kafka Streams with application.server (encoded with",
        "Kafka's AssignmentInfo) vs Backbone (assignments without host maps + the routing table",
        "once), for a simulated group; then real rebalance times, stock vs Backbone."
      })
  static final class AssignmentSize implements Callable<Integer> {
    @Spec private CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--nodes",
        defaultValue = "400",
        description = "Simulated instances (default ${DEFAULT-VALUE}).")
    int nodes;

    @Option(
        names = "--threads",
        defaultValue = "3",
        description = "Stream threads per instance (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(
        names = "--partitions",
        defaultValue = "2400",
        description = "Partitions per topic (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(
        names = "--topics",
        defaultValue = "2",
        description = "Source topics, one stateful subtopology each (default ${DEFAULT-VALUE}).")
    int topics;

    @Option(
        names = "--standbys",
        defaultValue = "1",
        description = "Standby replicas per task (default ${DEFAULT-VALUE}).")
    int standbys;

    @Option(
        names = "--real-instances",
        defaultValue = "10",
        description =
            "Kafka Streams instances of the real rebalance on an embedded broker; 0 skips it"
                + " (default ${DEFAULT-VALUE}).")
    int realInstances;

    @Option(
        names = "--real-partitions",
        defaultValue = "24",
        description = "Input partitions of the real rebalance (default ${DEFAULT-VALUE}).")
    int realPartitions;

    @Option(
        names = "--timeout",
        defaultValue = "5m",
        converter = DurationConverter.class,
        description = "Give up on a real rebalance after this long (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
      if (nodes < 1 || threads < 1 || partitions < 1 || topics < 1 || standbys < 0) {
        throw new ParameterException(
            spec.commandLine(),
            "--nodes, --threads, --partitions and --topics must be at least 1, --standbys at"
                + " least 0");
      }
      if (realInstances < 0 || realPartitions < 1) {
        throw new ParameterException(
            spec.commandLine(), "--real-instances must be at least 0, --real-partitions 1");
      }
      AssignmentSizeBenchmark.run(
          new AssignmentSizeBenchmark.Spec(
              nodes, threads, partitions, topics, standbys, realInstances, realPartitions, timeout),
          System.out);
      return 0;
    }
  }

  @Command(
      name = "snapshot",
      mixinStandardHelpOptions = true,
      description = {
        "Snapshot time of a Backbone store as it grows: the first snapshot (checksums every",
        "file) and steady-state snapshots after more writes, against copying the same files."
      })
  static final class SnapshotTime implements Callable<Integer> {
    @Option(
        names = "--sizes",
        split = ",",
        defaultValue = "128m,1g",
        converter = ByteSizeConverter.class,
        description = "Store sizes to measure, comma separated (default ${DEFAULT-VALUE}).")
    List<Long> sizes;

    @Override
    public Integer call() throws Exception {
      SnapshotBench.run(sizes, System.out);
      return 0;
    }
  }

  @Command(
      name = "bootstrap",
      mixinStandardHelpOptions = true,
      description = {
        "Time to rebuild one replica of a task holding --state-mb of state, on an embedded",
        "broker, in one run: stock Kafka Streams' changelog restore, Backbone's peer bootstrap",
        "(snapshot copy from a live peer + changelog tail), and cp -r + sync of the same files."
      })
  static final class Bootstrap implements Callable<Integer> {
    @Spec private CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--state-mb",
        defaultValue = "1024",
        description = "State of the task in MB of keys and values (default ${DEFAULT-VALUE}).")
    int stateMb;

    @Option(
        names = "--updates-per-key",
        defaultValue = "10",
        description = "Updates of every key through the pipeline (default ${DEFAULT-VALUE}).")
    int updatesPerKey;

    @Option(
        names = "--dir",
        description = "Where the broker and the nodes keep their data (default: a temp dir).")
    Path dir;

    @Option(
        names = "--timeout",
        defaultValue = "60m",
        converter = DurationConverter.class,
        description = "Give up after this long (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
      if (stateMb < 1 || updatesPerKey < 1) {
        throw new ParameterException(
            spec.commandLine(), "--state-mb and --updates-per-key must be at least 1");
      }
      BootstrapBench.run(new BootstrapBench.Spec(stateMb, updatesPerKey, dir, timeout), System.out);
      return 0;
    }
  }

  @Command(
      name = "rescale",
      mixinStandardHelpOptions = true,
      description = {
        "A two-node application under exactly-once holding --state-mb of state, built from a",
        "history --history-factor times that size, rescaled from --from to --to tasks; then, in the",
        "same run on the same input, the stock way: reset and reprocess the history into --to tasks.",
        "Events keep arriving during the rescale at --load-rate per second. Prints the pause, the",
        "total time, the baseline and the ratio, as a table and as JSON."
      })
  static final class Rescale implements Callable<Integer> {
    @Spec private CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--state-mb",
        defaultValue = "1024",
        description = "State in MB of profiles (default ${DEFAULT-VALUE}).")
    int stateMb;

    @Option(
        names = "--from",
        defaultValue = "6",
        description = "Tasks before (default ${DEFAULT-VALUE}).")
    int from;

    @Option(
        names = "--to",
        defaultValue = "12",
        description = "Tasks after (default ${DEFAULT-VALUE}).")
    int to;

    @Option(
        names = "--history-factor",
        defaultValue = "10",
        description =
            "Input history as a multiple of the state's bytes (default ${DEFAULT-VALUE}).")
    int historyFactor;

    @Option(
        names = "--load-rate",
        defaultValue = "2000",
        description =
            "Events per second written while the rescale runs, 0 for none (default"
                + " ${DEFAULT-VALUE}).")
    int loadRate;

    @Option(
        names = "--dir",
        description = "Where the broker and the nodes keep their data (default: a temp dir).")
    Path dir;

    @Option(
        names = "--timeout",
        defaultValue = "180m",
        converter = DurationConverter.class,
        description = "Give up on a phase after this long (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
      if (stateMb < 1 || from < 1 || to < 1 || historyFactor < 1) {
        throw new ParameterException(
            spec.commandLine(), "--state-mb, --from, --to and --history-factor must be at least 1");
      }
      if (loadRate < 0) {
        throw new ParameterException(spec.commandLine(), "--load-rate must not be negative");
      }
      if (from == to) {
        throw new ParameterException(spec.commandLine(), "--from and --to must differ");
      }
      RescaleBench.run(
          new RescaleBench.Spec(stateMb, from, to, historyFactor, loadRate, dir, timeout),
          System.out);
      return 0;
    }
  }

  @Command(
      name = "changelog-disk",
      mixinStandardHelpOptions = true,
      description = {
        "Bytes a broker holds for a state store's changelog after --hours-simulated",
        "hours of churn (new keys every hour, updates skewed to recent keys, some",
        "deletes), written in minutes with record timestamps to an embedded broker.",
        "Measured: Backbone's bounded policy (compact,delete with retention.ms =",
        "--retention-hours). Baseline: Kafka Streams' stock policy (compact, kept",
        "forever) on the same writes in the same run. Both are compared with one",
        "retention window of writes and with the live state at the end."
      })
  static final class ChangelogDisk implements Callable<Integer> {
    @Spec private CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--hours-simulated",
        defaultValue = "72",
        description = "Simulated hours of writes (default ${DEFAULT-VALUE}).")
    int hoursSimulated;

    @Option(
        names = "--retention-hours",
        defaultValue = "24",
        description = "Retention window of the bounded policy (default ${DEFAULT-VALUE}).")
    int retentionHours;

    @Option(
        names = "--keys-per-hour",
        defaultValue = "8000",
        description = "New keys per simulated hour (default ${DEFAULT-VALUE}).")
    long keysPerHour;

    @Option(
        names = "--updates-per-hour",
        defaultValue = "8000",
        description =
            "Updates and deletes of existing keys per simulated hour (default ${DEFAULT-VALUE}).")
    long updatesPerHour;

    @Option(
        names = "--delete-percent",
        defaultValue = "2",
        description = "Share of the updates that are deletes (default ${DEFAULT-VALUE}).")
    int deletePercent;

    @Option(
        names = "--zipf",
        defaultValue = "1.0",
        description =
            "Skew of updates towards recent keys: rank r (1 = newest) is updated with probability"
                + " ~ r^-zipf (default ${DEFAULT-VALUE}).")
    double zipf;

    @Option(
        names = "--value-bytes",
        defaultValue = "500",
        description = "Bytes per value; keys are 16 bytes (default ${DEFAULT-VALUE}).")
    int valueBytes;

    @Option(
        names = "--partitions",
        defaultValue = "6",
        description = "Partitions of each changelog topic (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(
        names = "--seed",
        defaultValue = "12",
        description = "Seed of the write stream (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
        names = "--dir",
        description =
            "Where the broker keeps its data, kept afterwards; must not hold an earlier run's"
                + " (default: a temp dir, deleted afterwards).")
    Path dir;

    @Option(
        names = "--settle-timeout",
        defaultValue = "10m",
        converter = DurationConverter.class,
        description =
            "Give up waiting for retention and the cleaner after the last write after this long"
                + " (default ${DEFAULT-VALUE}).")
    Duration settleTimeout;

    @Override
    public Integer call() throws Exception {
      if (hoursSimulated < 1 || retentionHours < 1 || keysPerHour < 1 || partitions < 1) {
        throw new ParameterException(
            spec.commandLine(),
            "--hours-simulated, --retention-hours, --keys-per-hour and --partitions must be at"
                + " least 1");
      }
      if (retentionHours >= hoursSimulated) {
        throw new ParameterException(
            spec.commandLine(),
            "--retention-hours must be less than --hours-simulated, or the bounded policy never"
                + " deletes anything");
      }
      if (updatesPerHour < 0 || valueBytes < 1 || deletePercent < 0 || deletePercent > 100) {
        throw new ParameterException(
            spec.commandLine(),
            "--updates-per-hour must be at least 0, --value-bytes at least 1, --delete-percent 0"
                + " to 100");
      }
      if (!(zipf > 0) || Double.isInfinite(zipf)) {
        throw new ParameterException(spec.commandLine(), "--zipf must be a positive number");
      }
      if ((long) hoursSimulated * (keysPerHour + updatesPerHour) > Integer.MAX_VALUE) {
        throw new ParameterException(
            spec.commandLine(),
            "at most "
                + Integer.MAX_VALUE
                + " writes per run: lower --hours-simulated, --keys-per-hour or"
                + " --updates-per-hour");
      }
      ChangelogDiskBench.run(
          new ChangelogDiskBench.Spec(
              hoursSimulated,
              retentionHours,
              keysPerHour,
              updatesPerHour,
              partitions,
              valueBytes,
              deletePercent,
              zipf,
              seed,
              dir,
              settleTimeout),
          System.out);
      return 0;
    }
  }
}
