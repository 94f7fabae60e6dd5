package dev.backbone.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.BackboneException;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.TestStoreContext;
import dev.backbone.store.internals.BackboneKeyValueStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Lending snapshots of a real store: what is cut, reused, served, refused and deleted. */
class SnapshotLenderTest {
  private static final TaskId TASK = new TaskId(0, 1);
  private static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 1);

  @TempDir Path dir;
  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-02T00:00:00Z"));
  private TestStoreContext context;
  private BackboneKeyValueStore store;
  private SnapshotLender lender;

  @BeforeEach
  void open() {
    context = new TestStoreContext(dir.resolve("task"), TASK, StreamsConfig.AT_LEAST_ONCE);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
    for (int i = 0; i < 100; i++) {
      store.put(Bytes.wrap(("k" + i).getBytes(StandardCharsets.UTF_8)), new byte[] {(byte) i});
    }
    store.commit(Map.of(CHANGELOG, 99L));
    lender = lender(2, Duration.ofSeconds(10));
  }

  @AfterEach
  void close() {
    lender.close();
    store.close();
  }

  private SnapshotLender lender(int max, Duration reuse) {
    return new SnapshotLender(
        context.stores(), new SnapshotLender.Settings(max, Duration.ofMinutes(10), reuse), clock);
  }

  private Path directoryOf(SnapshotLender.Loan loan) {
    SnapshotManifest.SnapshotFile any = loan.manifest().files().get(0);
    return lender.file(loan.id(), any.name(), TASK, "s").path().getParent();
  }

  @Test
  void lendsASnapshotOfTheOpenStoreWithItsManifestAndOffset() throws Exception {
    SnapshotLender.Loan loan = lender.lend("app", TASK, "s");

    assertThat(loan.manifest().offsetOf(CHANGELOG.topic(), 1)).contains(99L);
    assertThat(loan.manifest().taskId()).isEqualTo("0_1");
    assertThat(loan.manifestJson()).contains("\"storeName\"").contains("\"s\"");
    assertThat(loan.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(10)));
    for (SnapshotManifest.SnapshotFile f : loan.manifest().files()) {
      SnapshotLender.LentFile file = lender.file(loan.id(), f.name(), TASK, "s");
      assertThat(Files.size(file.path())).isEqualTo(f.size());
    }
    assertThat(lender.loans()).extracting(SnapshotLender.Loan::id).containsExactly(loan.id());
  }

  @Test
  void aSecondBorrowerWithinTheReuseWindowGetsTheSameSnapshotAndItOutlivesTheFirstRelease() {
    SnapshotLender.Loan first = lender.lend("app", TASK, "s");
    clock.advance(Duration.ofSeconds(5));
    SnapshotLender.Loan second = lender.lend("app", TASK, "s");
    assertThat(second.id()).isEqualTo(first.id());
    Path snapshot = directoryOf(first);

    lender.release(first.id());
    assertThat(snapshot).isDirectory();
    lender.release(second.id());
    assertThat(snapshot).doesNotExist();
    assertThat(lender.loans()).isEmpty();
  }

  @Test
  void afterTheReuseWindowANewSnapshotIsCut() {
    SnapshotLender.Loan first = lender.lend("app", TASK, "s");
    clock.advance(Duration.ofSeconds(11));
    SnapshotLender.Loan second = lender.lend("app", TASK, "s");
    assertThat(second.id()).isNotEqualTo(first.id());
  }

  @Test
  void beyondMaxSnapshotsARequestIsBusyNotAnotherCut() {
    lender.close();
    lender = lender(2, Duration.ZERO);
    lender.lend("app", TASK, "s");
    lender.lend("app", TASK, "s");
    assertThatThrownBy(() -> lender.lend("app", TASK, "s"))
        .isInstanceOf(RetriableBackboneException.class)
        .hasMessageContaining("backbone.bootstrap.max.snapshots")
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("SNAPSHOTS_BUSY");
    assertThat(lender.loans()).hasSize(2);
  }

  @Test
  void anUnreleasedSnapshotIsDeletedWhenItsLeaseRunsOut() {
    SnapshotLender.Loan loan = lender.lend("app", TASK, "s");
    Path snapshot = directoryOf(loan);
    clock.advance(Duration.ofMinutes(10).plusSeconds(1));

    assertThat(lender.loans()).isEmpty();
    assertThat(snapshot).doesNotExist();
    assertThatThrownBy(
            () -> lender.file(loan.id(), loan.manifest().files().get(0).name(), TASK, "s"))
        .isInstanceOf(RetriableBackboneException.class)
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("SNAPSHOT_GONE");
  }

  @Test
  void servesOnlyTheNamesTheManifestLists() {
    SnapshotLender.Loan loan = lender.lend("app", TASK, "s");
    String listed = loan.manifest().files().get(0).name();
    for (String name :
        List.of(
            SnapshotManifest.FILE_NAME,
            "../" + listed,
            "./" + listed,
            dir.resolve("task").toAbsolutePath().toString(),
            "",
            "CURRENT/../" + listed)) {
      assertThatThrownBy(() -> lender.file(loan.id(), name, TASK, "s"))
          .as("name %s", name)
          .isInstanceOf(FatalBackboneException.class)
          .extracting(e -> ((BackboneException) e).code())
          .isEqualTo("SNAPSHOT_FILE_UNKNOWN");
    }
  }

  @Test
  void aSnapshotIdIsNoKeyToAnotherTasksOrStoresFiles() {
    SnapshotLender.Loan loan = lender.lend("app", TASK, "s");
    String listed = loan.manifest().files().get(0).name();
    assertThatThrownBy(() -> lender.file(loan.id(), listed, new TaskId(0, 2), "s"))
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("SNAPSHOT_GONE");
    assertThatThrownBy(() -> lender.file(loan.id(), listed, TASK, "other"))
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("SNAPSHOT_GONE");
  }

  @Test
  void aStoreThisNodeDoesNotHoldIsRetriable() {
    assertThatThrownBy(() -> lender.lend("app", new TaskId(0, 7), "s"))
        .isInstanceOf(RetriableBackboneException.class)
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("STORE_NOT_HERE");
    assertThatThrownBy(() -> lender.lend("other-app", TASK, "s"))
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("STORE_NOT_HERE");
  }

  @Test
  void closingTheLenderDeletesEverySnapshot() {
    SnapshotLender.Loan loan = lender.lend("app", TASK, "s");
    Path snapshot = directoryOf(loan);
    lender.close();
    assertThat(snapshot).doesNotExist();
    assertThat(lender.loans()).isEmpty();
  }

  @Test
  void aStagedSnapshotIsLentForATaskThisNodeDoesNotRunAndOutlivesItsBorrowersUntilUnstaged() {
    TaskId next = new TaskId(0, 3);
    dev.backbone.store.Snapshot built = store.snapshot();
    SnapshotLender small = lender(1, Duration.ZERO);
    try {
      small.stage("app-g1", next, "s", built);
      assertThat(small.staged("app-g1")).containsOnlyKeys(next);
      // Staged snapshots take no slot of max.snapshots: three borrowers at once with a max of 1.
      List<SnapshotLender.Loan> loans =
          List.of(
              small.lend("app-g1", next, "s"),
              small.lend("app-g1", next, "s"),
              small.lend("app-g1", next, "s"));
      for (SnapshotLender.Loan loan : loans) {
        assertThat(loan.manifest().changelogOffsets())
            .isEqualTo(built.manifest().changelogOffsets());
        SnapshotManifest.SnapshotFile any = loan.manifest().files().get(0);
        assertThat(small.file(loan.id(), any.name(), next, "s").path())
            .isEqualTo(built.directory().resolve(any.name()));
        assertThatThrownBy(() -> small.file(loan.id(), any.name(), TASK, "s"))
            .extracting(e -> ((BackboneException) e).code())
            .isEqualTo("SNAPSHOT_GONE");
        small.release(loan.id());
      }
      assertThat(built.directory()).isDirectory();
      assertThat(small.unstage("app-g1")).containsExactly(built.directory());
      assertThatThrownBy(() -> small.lend("app-g1", next, "s"))
          .extracting(e -> ((BackboneException) e).code())
          .isEqualTo("STORE_NOT_HERE");
      small.stage("app-g1", next, "s", built);
    } finally {
      small.close();
    }
    assertThat(built.directory()).as("closing the lender leaves staged files").isDirectory();
  }

  @Test
  void releasingAnUnknownIdDoesNothing() {
    SnapshotLender.Loan loan = lender.lend("app", TASK, "s");
    lender.release("no-such-id");
    assertThat(lender.loans()).extracting(SnapshotLender.Loan::id).containsExactly(loan.id());
  }

  private static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
