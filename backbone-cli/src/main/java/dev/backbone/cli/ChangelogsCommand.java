package dev.backbone.cli;

import dev.backbone.retention.ArchiveSettings;
import dev.backbone.retention.ArchivedStore;
import dev.backbone.retention.ChangelogRetention;
import dev.backbone.retention.SnapshotArchive;
import dev.backbone.retention.SnapshotArchives;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code backbone changelogs}: bound the changelogs of an existing application, or report what its
 * changelogs hold on the brokers (docs/retention.md).
 */
@Command(
    name = "changelogs",
    mixinStandardHelpOptions = true,
    description = {
      "With --retention D: sets every changelog of --app-id (<app-id>-<store>-changelog) to",
      "cleanup.policy=compact,delete with retention.ms=D, after checking that D spans at least 3",
      "snapshot intervals. Run it only once every node archives snapshots (backbone.archive.uri).",
      "With --report: per changelog, the bytes on the brokers, its policy and retention, the",
      "offsets retention deleted, and with --archive the age of the newest archived snapshot and",
      "what the state would take kept compacted forever."
    })
final class ChangelogsCommand implements Callable<Integer> {
  @Spec private picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(
      names = "--app-id",
      required = true,
      description = "The application id whose changelogs to bound or report.")
  String applicationId;

  @Option(
      names = "--snapshot-interval",
      defaultValue = "1h",
      converter = DurationConverter.class,
      description = "The nodes' backbone.snapshot.interval.ms (default ${DEFAULT-VALUE}).")
  Duration snapshotInterval;

  @Option(
      names = "--archive",
      description = "The nodes' backbone.archive.uri, for the report's snapshot ages.")
  String archive;

  @Option(
      names = "--archive-s3-endpoint",
      description = "backbone.archive.s3.endpoint, for an S3-compatible archive.")
  String s3Endpoint;

  @Option(
      names = "--archive-s3-path-style",
      description = "backbone.archive.s3.path.style (most S3-compatible stores need it).")
  boolean s3PathStyle;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Action action;

  static final class Action {
    @Option(
        names = "--retention",
        converter = DurationConverter.class,
        description = "Bound every changelog to this retention (e.g. 24h).")
    Duration retention;

    @Option(names = "--report", description = "Report what the changelogs hold.")
    boolean report;
  }

  @Override
  public Integer call() {
    if (action.retention != null && (action.retention.isZero() || action.retention.isNegative())) {
      throw new ParameterException(spec.commandLine(), "--retention must be positive");
    }
    Optional<ArchiveSettings> archiveSettings = Optional.empty();
    if (archive != null) {
      ArchiveSettings settings = ArchiveSettings.of(archive);
      if (settings.isS3()) {
        settings = settings.withS3(s3Endpoint, null, null, null, s3PathStyle);
      }
      if (!settings.problems().isEmpty()) {
        throw new ParameterException(
            spec.commandLine(), "--archive: " + String.join("; ", settings.problems()));
      }
      archiveSettings = Optional.of(settings);
    }
    if (action.retention != null) {
      ChangelogRetention.check(action.retention, snapshotInterval); // before any broker is asked
    }
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Object> kafka = new HashMap<>();
    kafka.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    try (Admin admin = Admin.create(kafka)) {
      List<String> topics = ChangelogRetention.changelogTopics(admin, applicationId);
      if (topics.isEmpty()) {
        throw new IllegalStateException(
            "application "
                + applicationId
                + " has no changelog topic ("
                + applicationId
                + "-<store>-changelog); check --app-id");
      }
      if (action.retention != null) {
        List<String> changed =
            ChangelogRetention.apply(admin, topics, action.retention, snapshotInterval);
        for (String topic : topics) {
          out.printf(
              Locale.ROOT,
              "%s  %s%n",
              topic,
              changed.contains(topic)
                  ? "now compact,delete with retention.ms=" + action.retention.toMillis()
                  : "already bounded so");
        }
        out.println(
            "Every node of "
                + applicationId
                + " must archive snapshots (backbone.archive.uri) with backbone.snapshot.interval.ms"
                + " <= "
                + snapshotInterval.toMillis()
                + ", and be started with backbone.changelog.retention.ms="
                + action.retention.toMillis()
                + " so that new generations are bounded too.");
        return 0;
      }
      report(out, admin, topics, archiveSettings);
      return 0;
    }
  }

  private void report(
      PrintWriter out, Admin admin, List<String> topics, Optional<ArchiveSettings> settings) {
    List<ChangelogRetention.TopicReport> reports = ChangelogRetention.report(admin, topics);
    List<ArchivedStore> archived = List.of();
    if (settings.isPresent()) {
      try (SnapshotArchive a = SnapshotArchives.open(settings.get())) {
        archived = a.inventory(applicationId);
      }
    }
    Instant now = Instant.now();
    out.println(
        "| changelog | partitions | policy | retention | on brokers | offsets held | offsets"
            + " deleted | newest snapshot (oldest task) | archived state |");
    out.println("|---|---|---|---|---|---|---|---|---|");
    long totalBrokers = 0;
    long totalState = 0;
    for (ChangelogRetention.TopicReport r : reports) {
      String store = storeOf(r.topic());
      List<ArchivedStore> ofStore =
          archived.stream().filter(s -> s.storeName().equals(store)).toList();
      String age =
          ofStore.isEmpty() || ofStore.size() < r.partitions()
              ? (settings.isPresent() ? "missing for some task" : "-")
              : ofStore.stream()
                  .map(s -> Duration.between(s.newest(), now))
                  .max(Duration::compareTo)
                  .map(d -> d.toSeconds() + " s ago")
                  .orElse("-");
      // The newest snapshot of each task is its live state in RocksDB's files: what a compacted,
      // never-deleted changelog holds at least (it holds its uncleaned tail besides).
      long state = ofStore.stream().mapToLong(ArchivedStore::bytes).sum();
      totalBrokers += r.bytesOnBrokers();
      totalState += state;
      out.printf(
          Locale.ROOT,
          "| %s | %d | %s | %s | %s | %d | %d | %s | %s |%n",
          r.topic(),
          r.partitions(),
          r.cleanupPolicy(),
          r.retentionMs() < 0 ? "forever" : Duration.ofMillis(r.retentionMs()).toString(),
          RescaleCommand.ProgressPrinter.bytes(r.bytesOnBrokers()),
          r.records(),
          r.deletedOffsets(),
          age,
          settings.isPresent() ? RescaleCommand.ProgressPrinter.bytes(state) : "-");
    }
    out.printf(
        Locale.ROOT,
        "{\"application\":\"%s\",\"changelogs\":%d,\"bytes_on_brokers\":%d,\"bounded\":%d%s}%n",
        applicationId,
        reports.size(),
        totalBrokers,
        reports.stream().filter(ChangelogRetention.TopicReport::bounded).count(),
        settings.isPresent() ? ",\"archived_state_bytes\":" + totalState : "");
  }

  private String storeOf(String changelog) {
    return changelog.substring(
        applicationId.length() + 1, changelog.length() - "-changelog".length());
  }
}
