package dev.backbone.retention;

import dev.backbone.config.BackboneConfig;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Bounded changelogs: the topic settings that let the brokers delete a changelog's old segments,
 * applied to an application's changelogs, and a report of what they hold.
 *
 * <p><b>What must hold.</b> A changelog may lose records to retention only while every record a
 * replica could still need is in a snapshot it can copy: a live peer's (cut on demand, always
 * current) or the archive's (cut every {@code backbone.snapshot.interval.ms}). So the retention
 * must span several snapshot intervals ({@link BackboneConfig#RETENTION_SNAPSHOT_INTERVALS}): the
 * newest archived snapshot of every task then sits well inside the records still kept, and a store
 * rebuilt from it replays a tail that is all there. Its tombstones must outlive that tail too: a
 * snapshot older than the changelog's {@code delete.retention.ms} is never installed (the
 * compaction may have dropped a tombstone after it), so {@code delete.retention.ms} is raised to
 * the retention when it is shorter. Should it all go wrong anyway (an archive that stopped
 * uploading), a store never replays a truncated changelog: bootstrap refuses, naming the missing
 * offsets ({@code ChangelogTruncatedException}).
 *
 * <p>Kafka Streams creates changelogs {@code compact} only; it reads their settings nowhere after
 * creation ({@code InternalTopicManager#makeReady} validates partition counts, not policies, in
 * 4.4.0), so the settings are applied to the topics once they exist: by a node for its own stages,
 * and by {@code bin/backbone changelogs --retention} for an existing application.
 */
public final class ChangelogRetention {
  private static final long TIMEOUT_SECONDS = 30;

  private ChangelogRetention() {}

  /**
   * Refuses a retention that does not span {@link BackboneConfig#RETENTION_SNAPSHOT_INTERVALS}
   * snapshot intervals.
   *
   * @throws FatalBackboneException {@code RETENTION_UNSAFE} naming both and the least safe value
   */
  public static void check(Duration retention, Duration snapshotInterval) {
    Objects.requireNonNull(retention, "retention");
    Objects.requireNonNull(snapshotInterval, "snapshotInterval");
    Duration least = snapshotInterval.multipliedBy(BackboneConfig.RETENTION_SNAPSHOT_INTERVALS);
    if (retention.compareTo(least) < 0) {
      throw new FatalBackboneException(
          "RETENTION_UNSAFE",
          "a changelog retention of "
              + human(retention)
              + " is shorter than "
              + BackboneConfig.RETENTION_SNAPSHOT_INTERVALS
              + " snapshot intervals of "
              + human(snapshotInterval)
              + ": records could be deleted before any archived snapshot holds them. Use at"
              + " least "
              + human(least)
              + ", or snapshot more often");
    }
  }

  /** The changelog topics of an application: {@code <application.id>-<store>-changelog}. */
  public static List<String> changelogTopics(Admin admin, String applicationId) {
    try {
      Set<String> names = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      List<String> out = new ArrayList<>();
      for (String name : new TreeSet<>(names)) {
        if (name.startsWith(applicationId + "-") && name.endsWith("-changelog")) {
          out.add(name);
        }
      }
      return out;
    } catch (ExecutionException | TimeoutException e) {
      throw unavailable("list the topics", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable("list the topics", e);
    }
  }

  /**
   * What a bounded changelog is set to: {@code compact,delete} with {@code retention.ms} and no
   * size bound; tombstones kept at least as long as the retention; no compaction of records younger
   * than the retention ({@code min.compaction.lag.ms}); segments rolled every tenth of it ({@code
   * segment.ms}, never raised).
   *
   * <p>Why the compaction lag: time retention deletes a whole segment once its <em>largest</em>
   * timestamp is older than {@code retention.ms} ({@code
   * UnifiedLog#deleteRetentionMsBreachedSegments}), and the cleaner rewrites the log from its start
   * in groups of up to {@code segment.bytes} ({@code LogCleaner}'s {@code groupSegmentsBySize}), so
   * a compacted changelog smaller than a segment (1 GB by default) is folded again and again into
   * one segment whose largest timestamp is the newest cleaned record's: it would never be deleted,
   * and the changelog would hold the whole state forever, as a compact-only one does. With the lag
   * equal to the retention, a record can be compacted only once it may be deleted, so every segment
   * goes once it is a retention old: the changelog holds one retention window of writes, whatever
   * the state's size (BoundedChangelogIT saw no deletion at all without it). Why the segment roll:
   * the active segment is never deleted, so on a quiet partition it would hold records of up to
   * {@code segment.ms} (7 days by default).
   *
   * @param currentDeleteRetentionMs the topic's {@code delete.retention.ms} now
   * @param currentSegmentMs the topic's {@code segment.ms} now
   */
  public static Map<String, String> topicConfigs(
      Duration retention, long currentDeleteRetentionMs, long currentSegmentMs) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put(
        TopicConfig.CLEANUP_POLICY_CONFIG,
        TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE);
    out.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(retention.toMillis()));
    out.put(TopicConfig.RETENTION_BYTES_CONFIG, "-1");
    out.put(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, Long.toString(retention.toMillis()));
    out.put(
        TopicConfig.DELETE_RETENTION_MS_CONFIG,
        Long.toString(Math.max(currentDeleteRetentionMs, retention.toMillis())));
    out.put(
        TopicConfig.SEGMENT_MS_CONFIG,
        Long.toString(Math.min(currentSegmentMs, Math.max(1, retention.toMillis() / 10))));
    return out;
  }

  /**
   * Bounds the given changelogs (see the class comment); settings already as wanted are left alone,
   * so calling it again changes nothing.
   *
   * @return the topics whose settings were changed
   * @throws FatalBackboneException {@code RETENTION_UNSAFE} (see {@link #check}); {@code
   *     TOPIC_NOT_FOUND} for a topic that does not exist
   * @throws RetriableBackboneException {@code KAFKA_UNAVAILABLE} when the brokers did not answer
   */
  public static List<String> apply(
      Admin admin, Collection<String> topics, Duration retention, Duration snapshotInterval) {
    check(retention, snapshotInterval);
    if (topics.isEmpty()) {
      return List.of();
    }
    Map<String, Config> current = describe(admin, topics);
    Map<ConfigResource, Collection<AlterConfigOp>> changes = new LinkedHashMap<>();
    for (String topic : topics) {
      Config config = current.get(topic);
      long deleteRetention =
          Long.parseLong(value(config, TopicConfig.DELETE_RETENTION_MS_CONFIG, "86400000"));
      long segmentMs = Long.parseLong(value(config, TopicConfig.SEGMENT_MS_CONFIG, "604800000"));
      List<AlterConfigOp> ops = new ArrayList<>();
      topicConfigs(retention, deleteRetention, segmentMs)
          .forEach(
              (name, wanted) -> {
                if (!wanted.equals(value(config, name, null))) {
                  ops.add(
                      new AlterConfigOp(new ConfigEntry(name, wanted), AlterConfigOp.OpType.SET));
                }
              });
      if (!ops.isEmpty()) {
        changes.put(new ConfigResource(ConfigResource.Type.TOPIC, topic), ops);
      }
    }
    if (changes.isEmpty()) {
      return List.of();
    }
    try {
      admin.incrementalAlterConfigs(changes).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw unavailable("change the settings of " + changes.keySet(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable("change the settings of " + changes.keySet(), e);
    }
    return changes.keySet().stream().map(ConfigResource::name).toList();
  }

  /**
   * What one changelog holds on the brokers.
   *
   * @param topic the changelog
   * @param partitions its partition count
   * @param bytesOnBrokers the size of all its replicas' logs, summed over the brokers
   * @param cleanupPolicy its {@code cleanup.policy}
   * @param retentionMs its {@code retention.ms}, -1 for forever
   * @param records offsets between each partition's start and end, summed (records, markers and
   *     what compaction removed in between)
   * @param deletedOffsets offsets below each partition's start, summed: what retention (or a
   *     rescale's generation base) deleted
   */
  public record TopicReport(
      String topic,
      int partitions,
      long bytesOnBrokers,
      String cleanupPolicy,
      long retentionMs,
      long records,
      long deletedOffsets) {
    /** Whether the brokers may delete this changelog's old records by time. */
    public boolean bounded() {
      return cleanupPolicy.contains(TopicConfig.CLEANUP_POLICY_DELETE) && retentionMs > 0;
    }
  }

  /** Reads what each changelog holds (see {@link TopicReport}), in the order given. */
  public static List<TopicReport> report(Admin admin, Collection<String> topics) {
    if (topics.isEmpty()) {
      return List.of();
    }
    try {
      Map<String, Config> configs = describe(admin, topics);
      Map<String, TopicDescription> descriptions =
          admin.describeTopics(topics).allTopicNames().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      Set<Integer> brokers = new TreeSet<>();
      descriptions.forEach(
          (topic, d) ->
              d.partitions()
                  .forEach(
                      p -> {
                        TopicPartition tp = new TopicPartition(topic, p.partition());
                        earliest.put(tp, OffsetSpec.earliest());
                        latest.put(tp, OffsetSpec.latest());
                        p.replicas().forEach(r -> brokers.add(r.id()));
                      }));
      var starts = admin.listOffsets(earliest).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      var ends = admin.listOffsets(latest).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      Map<String, Long> bytes = new HashMap<>();
      Map<Integer, Map<String, LogDirDescription>> dirs =
          admin.describeLogDirs(brokers).allDescriptions().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      for (Map<String, LogDirDescription> byDir : dirs.values()) {
        for (LogDirDescription dir : byDir.values()) {
          for (Map.Entry<TopicPartition, ReplicaInfo> r : dir.replicaInfos().entrySet()) {
            if (descriptions.containsKey(r.getKey().topic())) {
              bytes.merge(r.getKey().topic(), r.getValue().size(), Long::sum);
            }
          }
        }
      }
      List<TopicReport> out = new ArrayList<>();
      for (String topic : topics) {
        long records = 0;
        long deleted = 0;
        for (var p : descriptions.get(topic).partitions()) {
          TopicPartition tp = new TopicPartition(topic, p.partition());
          long start = starts.get(tp).offset();
          records += ends.get(tp).offset() - start;
          deleted += start;
        }
        Config config = configs.get(topic);
        out.add(
            new TopicReport(
                topic,
                descriptions.get(topic).partitions().size(),
                bytes.getOrDefault(topic, 0L),
                value(config, TopicConfig.CLEANUP_POLICY_CONFIG, "?"),
                Long.parseLong(value(config, TopicConfig.RETENTION_MS_CONFIG, "-1")),
                records,
                deleted));
      }
      return out;
    } catch (ExecutionException | TimeoutException e) {
      throw unavailable("describe " + topics, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable("describe " + topics, e);
    }
  }

  private static Map<String, Config> describe(Admin admin, Collection<String> topics) {
    List<ConfigResource> resources =
        topics.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
    try {
      Map<ConfigResource, Config> described =
          admin.describeConfigs(resources).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      Map<String, Config> out = new HashMap<>();
      described.forEach((r, c) -> out.put(r.name(), c));
      return out;
    } catch (ExecutionException e) {
      if (e.getCause()
          instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException unknown) {
        throw new FatalBackboneException(
            "TOPIC_NOT_FOUND", "a changelog does not exist: " + unknown.getMessage(), unknown);
      }
      throw unavailable("describe the settings of " + topics, e);
    } catch (TimeoutException e) {
      throw unavailable("describe the settings of " + topics, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable("describe the settings of " + topics, e);
    }
  }

  private static String value(Config config, String name, String fallback) {
    ConfigEntry entry = config == null ? null : config.get(name);
    return entry == null || entry.value() == null ? fallback : entry.value();
  }

  private static RetriableBackboneException unavailable(String what, Exception e) {
    Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    return new RetriableBackboneException(
        "KAFKA_UNAVAILABLE", "the brokers did not let Backbone " + what + ": " + cause, cause);
  }

  /** A duration as people write it: 24h, 90m, 45s, 250ms. */
  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
