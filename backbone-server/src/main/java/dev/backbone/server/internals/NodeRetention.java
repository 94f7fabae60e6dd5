package dev.backbone.server.internals;

import dev.backbone.bootstrap.BootstrapSource.ArchivedCopies;
import dev.backbone.config.BackboneConfig;
import dev.backbone.errors.BackboneException;
import dev.backbone.retention.ArchiveBootstrap;
import dev.backbone.retention.ChangelogRetention;
import dev.backbone.retention.SnapshotArchive;
import dev.backbone.retention.SnapshotArchives;
import dev.backbone.retention.SnapshotSchedule;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotStore;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's part in bounded changelogs (docs/retention.md): its snapshot archive, the schedule that
 * archives its active stores, and the keeper that sets its stages' changelogs to the bounded policy
 * once Kafka Streams has created them (and again for every new generation a rescale starts). With
 * neither {@code backbone.archive.uri} nor {@code backbone.changelog.retention.ms} set it does
 * nothing.
 */
final class NodeRetention implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeRetention.class);
  static final Duration KEEPER_EVERY = Duration.ofSeconds(15);
  private static final Duration FINAL_COMMIT_WAIT = Duration.ofMillis(500);
  private static final Duration FINAL_ARCHIVE_TIMEOUT = Duration.ofSeconds(60);

  private final BackboneConfig config;
  private final SnapshotArchive archive;
  private final SnapshotSchedule schedule;
  private final Supplier<Admin> admin;
  private final Supplier<Set<String>> changelogs;
  private final ScheduledExecutorService keeper;
  private final Set<String> bounded = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * @param config the node's settings
   * @param admin the node's admin client
   * @param activeStores the Backbone stores of the tasks active on the node
   * @param cutter cuts a current snapshot of a store ({@code SnapshotLender#cutCurrent})
   * @param changelogs the changelog topic names of every stage running on the node (existing or not
   *     yet)
   */
  NodeRetention(
      BackboneConfig config,
      Supplier<Admin> admin,
      Supplier<List<SnapshotStore>> activeStores,
      Function<SnapshotStore, Snapshot> cutter,
      Supplier<Set<String>> changelogs) {
    this.config = config;
    this.admin = admin;
    this.changelogs = changelogs;
    this.archive = config.archiveSettings().map(SnapshotArchives::open).orElse(null);
    this.schedule =
        archive == null
            ? null
            : new SnapshotSchedule(
                archive,
                config.snapshotInterval(),
                config.archiveKeepSnapshots(),
                activeStores,
                cutter,
                Clock.systemUTC());
    this.keeper =
        config.changelogRetention().isEmpty()
            ? null
            : Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "backbone-changelog-retention");
                  t.setDaemon(true);
                  return t;
                });
  }

  /** The archive as a bootstrap's source, if the node has one. */
  Optional<ArchivedCopies> archiveCopies() {
    return Optional.ofNullable(archive)
        .map(
            a -> new ArchiveBootstrap(a, URI.create(config.archiveUri().get()), Clock.systemUTC()));
  }

  /** The snapshot schedule, if the node has an archive. */
  Optional<SnapshotSchedule> schedule() {
    return Optional.ofNullable(schedule);
  }

  /** Starts archiving and keeping the changelogs bounded. */
  void start() {
    if (schedule != null) {
      schedule.start();
      log.info(
          "Node {} archives a snapshot of each active store every {} s to {}",
          config.nodeId(),
          config.snapshotInterval().toSeconds(),
          archive.describe());
    }
    if (keeper != null) {
      keeper.scheduleWithFixedDelay(
          this::keepBounded, 1_000, KEEPER_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Sets every changelog of the node's stages that exists and is not bounded yet to the bounded
   * policy. Kafka Streams creates changelogs at its first rebalance, so this runs again until each
   * is set; settings already right are left alone.
   */
  void keepBounded() {
    Duration retention = config.changelogRetention().orElseThrow();
    try {
      Set<String> wanted = new TreeSet<>(changelogs.get());
      wanted.removeAll(bounded);
      if (wanted.isEmpty()) {
        return;
      }
      Set<String> existing =
          admin.get().listTopics().names().get(KEEPER_EVERY.toSeconds(), TimeUnit.SECONDS);
      wanted.retainAll(existing);
      if (wanted.isEmpty()) {
        return;
      }
      List<String> changed =
          ChangelogRetention.apply(admin.get(), wanted, retention, config.snapshotInterval());
      bounded.addAll(wanted);
      if (!changed.isEmpty()) {
        log.info(
            "Node {} bounded changelogs {}: cleanup.policy=compact,delete, retention.ms={}",
            config.nodeId(),
            changed,
            retention.toMillis());
      }
    } catch (BackboneException | java.util.concurrent.ExecutionException e) {
      log.warn("Node {} could not bound its changelogs yet: {}", config.nodeId(), e.getMessage());
    } catch (java.util.concurrent.TimeoutException e) {
      log.warn("Node {} could not list the topics in time; tries again", config.nodeId());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Before a clean shutdown: pauses the given Kafka Streams instances (their stores stay open),
   * lets them commit what they processed, and archives every active store, so that the archive
   * covers every committed record however long the cluster stays down afterwards. Without an
   * archive it does nothing.
   */
  void archiveBeforeClose(List<org.apache.kafka.streams.KafkaStreams> streams) {
    if (schedule == null) {
      return;
    }
    for (org.apache.kafka.streams.KafkaStreams s : streams) {
      try {
        s.pause();
      } catch (RuntimeException e) {
        log.debug("could not pause a stage before the final archive", e);
      }
    }
    try {
      Thread.sleep(FINAL_COMMIT_WAIT.toMillis()); // a commit interval, under exactly-once
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    List<?> archived = schedule.archiveAll(FINAL_ARCHIVE_TIMEOUT);
    log.info(
        "Node {} archived {} stores before closing, to {}",
        config.nodeId(),
        archived.size(),
        archive.describe());
  }

  @Override
  public void close() {
    if (keeper != null) {
      keeper.shutdownNow();
    }
    try {
      if (schedule != null) {
        schedule.close();
      }
    } finally {
      if (archive != null) {
        archive.close();
      }
    }
  }
}
