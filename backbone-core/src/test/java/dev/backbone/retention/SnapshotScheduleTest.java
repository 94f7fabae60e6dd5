package dev.backbone.retention;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotStore;
import dev.backbone.store.TestStoreContext;
import dev.backbone.store.internals.BackboneKeyValueStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot schedule on real stores and a directory archive: every active store is archived once
 * an interval has passed since its newest archived snapshot (looked up in the archive by a node
 * that just started), the local copy is deleted, the archive keeps the newest few, and a failed
 * upload is counted and tried again at the next tick rather than an interval later.
 */
class SnapshotScheduleTest {
  private static final Duration INTERVAL = Duration.ofMinutes(10);

  @TempDir Path dir;
  private final List<BackboneKeyValueStore> stores = new ArrayList<>();
  private SnapshotArchive archive;
  // The schedule's clock starts at the wall clock's time: a snapshot's manifest says when it was
  // cut by the wall clock, and a node that starts again reads that.
  private Instant now = Instant.now();

  private final Clock clock =
      new Clock() {
        @Override
        public java.time.ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return now;
        }
      };

  @BeforeEach
  void openArchive() {
    archive = SnapshotArchives.open(ArchiveSettings.of(dir.resolve("archive").toUri().toString()));
  }

  @AfterEach
  void closeAll() {
    archive.close();
    stores.forEach(BackboneKeyValueStore::close);
  }

  private BackboneKeyValueStore store(int partition) {
    TestStoreContext context =
        new TestStoreContext(
            dir.resolve("task-" + partition),
            new TaskId(0, partition),
            StreamsConfig.AT_LEAST_ONCE);
    BackboneKeyValueStore store = new BackboneKeyValueStore("profiles");
    store.init(context, store);
    stores.add(store);
    write(store, "k", 1);
    return store;
  }

  private static void write(BackboneKeyValueStore store, String key, long offset) {
    store.put(
        Bytes.wrap(key.getBytes(StandardCharsets.UTF_8)),
        ("v" + offset).getBytes(StandardCharsets.UTF_8));
    store.commit(
        Map.of(new TopicPartition("app-profiles-changelog", store.taskId().partition()), offset));
  }

  private SnapshotSchedule schedule(
      List<SnapshotStore> active, Function<SnapshotStore, Snapshot> cutter) {
    return new SnapshotSchedule(archive, INTERVAL, 2, () -> active, cutter, clock);
  }

  @Test
  void everyActiveStoreIsArchivedOnceAnIntervalAfterItsNewestAndOnlyTheNewestAreKept()
      throws Exception {
    BackboneKeyValueStore a = store(0);
    BackboneKeyValueStore b = store(1);
    List<Snapshot> cut = new ArrayList<>();
    try (SnapshotSchedule schedule =
        schedule(
            List.of(a, b),
            s -> {
              Snapshot snapshot = s.snapshot();
              cut.add(snapshot);
              return snapshot;
            })) {
      assertThat(schedule.archiveDue()).hasSize(2);
      assertThat(schedule.archiveDue()).as("nothing is due again at once").isEmpty();
      now = now.plus(INTERVAL.minusSeconds(1));
      assertThat(schedule.archiveDue()).isEmpty();
      assertThat(schedule.oldestNewestAge()).contains(INTERVAL.minusSeconds(1));
      for (int round = 1; round <= 3; round++) {
        now = now.plus(INTERVAL);
        write(a, "k" + round, 1 + round);
        assertThat(schedule.archiveDue()).hasSize(2);
      }
      assertThat(schedule.uploads()).isEqualTo(8);
      assertThat(schedule.failures()).isZero();
      assertThat(schedule.oldestNewestAge()).contains(Duration.ZERO);
    }
    assertThat(archive.list(a.applicationId(), "0_0", "profiles")).hasSize(2);
    assertThat(archive.list(b.applicationId(), "0_1", "profiles")).hasSize(2);
    // The newest archived snapshot of a holds its last commit.
    assertThat(
            archive
                .list(a.applicationId(), "0_0", "profiles")
                .get(0)
                .manifest()
                .offsetOf("app-profiles-changelog", 0))
        .contains(4L);
    for (Snapshot snapshot : cut) {
      assertThat(Files.exists(snapshot.directory())).as("local copy deleted").isFalse();
    }
  }

  @Test
  void aNodeThatStartsAgainFindsTheArchivedSnapshotAndWaitsForTheInterval() {
    BackboneKeyValueStore a = store(0);
    try (SnapshotSchedule first = schedule(List.of(a), SnapshotStore::snapshot)) {
      assertThat(first.archiveDue()).hasSize(1);
    }
    now = now.plus(INTERVAL.dividedBy(2));
    try (SnapshotSchedule again = schedule(List.of(a), SnapshotStore::snapshot)) {
      assertThat(again.archiveDue()).isEmpty();
      assertThat(again.oldestNewestAge().orElseThrow())
          .isBetween(INTERVAL.dividedBy(2).minusSeconds(5), INTERVAL.dividedBy(2));
      now = now.plus(INTERVAL.dividedBy(2)).plusSeconds(5);
      assertThat(again.archiveDue()).hasSize(1);
    }
  }

  @Test
  void aFailedUploadIsCountedAndTriedAgainAtTheNextTick() {
    BackboneKeyValueStore a = store(0);
    AtomicInteger calls = new AtomicInteger();
    try (SnapshotSchedule schedule =
        schedule(
            List.of(a),
            s -> {
              if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("the disk refused");
              }
              return s.snapshot();
            })) {
      assertThat(schedule.archiveDue()).isEmpty();
      assertThat(schedule.failures()).isEqualTo(1);
      assertThat(schedule.oldestNewestAge()).contains(Duration.ofMillis(Long.MAX_VALUE));
      assertThat(schedule.archiveDue()).as("no interval to wait after a failure").hasSize(1);
      assertThat(schedule.uploads()).isEqualTo(1);
    }
  }
}
