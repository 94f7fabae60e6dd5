package dev.backbone.store.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.store.Snapshot;
import dev.backbone.store.TestStoreContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * install() with the file system failing at each step of the directory swap, and with the process
 * dying between its renames: the old data is never lost, and a message says "kept" only when it
 * was.
 */
class SnapshotInstallFailureTest {
  static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 0);
  static final Duration DAY = Duration.ofDays(1);

  @TempDir Path dir;
  Snapshot snapshot;

  static Bytes k(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] v(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @BeforeEach
  void snapshotOfANewerStore() {
    try (BackboneKeyValueStore source = open(dir.resolve("source"), DirectorySwap.FILES_MOVE)) {
      source.put(k("new"), v("n"));
      source.commit(Map.of(CHANGELOG, 9L));
      snapshot = source.snapshot(dir.resolve("snapshots"));
    }
    try (BackboneKeyValueStore replica = open(replicaDir(), DirectorySwap.FILES_MOVE)) {
      replica.put(k("old"), v("x"));
      replica.commit(Map.of(CHANGELOG, 1L));
    }
  }

  Path replicaDir() {
    return dir.resolve("replica");
  }

  Path liveDb() {
    return replicaDir().resolve(BackboneKeyValueStore.DB_DIR).resolve("s");
  }

  static BackboneKeyValueStore open(Path taskDir, DirectorySwap.Rename rename) {
    TestStoreContext context =
        new TestStoreContext(taskDir, new TaskId(0, 0), StreamsConfig.AT_LEAST_ONCE);
    BackboneKeyValueStore store = new BackboneKeyValueStore("s", rename);
    store.init(context, store);
    return store;
  }

  /** Renames normally, except the {@code failing}-th (1-based) and, if {@code alsoUndo}, after. */
  static DirectorySwap.Rename failingRename(int failing, boolean alsoUndo) {
    AtomicInteger calls = new AtomicInteger();
    return (from, to) -> {
      int call = calls.incrementAndGet();
      if (call == failing || (alsoUndo && call > failing)) {
        throw new IOException("injected: cannot rename " + from + " to " + to);
      }
      Files.move(from, to);
    };
  }

  static void assertOldData(BackboneKeyValueStore store) {
    assertThat(store.get(k("old"))).isEqualTo(v("x"));
    assertThat(store.get(k("new"))).isNull();
    assertThat(store.committedOffset(CHANGELOG)).isEqualTo(1L);
  }

  @Test
  void theFirstRenameFailingKeepsTheOldDataInPlace() {
    try (BackboneKeyValueStore replica = open(replicaDir(), failingRename(1, false))) {
      assertThatThrownBy(() -> replica.install(snapshot.directory(), DAY))
          .isInstanceOf(FatalBackboneException.class)
          .hasMessageContaining("moving it into place failed")
          .hasMessageContaining("keeps its old data");
      assertOldData(replica);
    }
    assertThat(Files.exists(liveDb().resolveSibling("s.installing"))).isFalse();
  }

  @Test
  void theSecondRenameFailingPutsTheOldDataBack() {
    try (BackboneKeyValueStore replica = open(replicaDir(), failingRename(2, false))) {
      assertThatThrownBy(() -> replica.install(snapshot.directory(), DAY))
          .isInstanceOf(FatalBackboneException.class)
          .hasMessageContaining("keeps its old data");
      assertOldData(replica);
    }
    assertThat(Files.exists(liveDb().resolveSibling("s.previous"))).isFalse();
  }

  @Test
  void whenTheOldDataCannotBeMovedBackTheMessageSaysWhereItIsAndTheNextOpenRecoversIt() {
    BackboneKeyValueStore replica = open(replicaDir(), failingRename(2, true));
    assertThatThrownBy(() -> replica.install(snapshot.directory(), DAY))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("could not be moved back")
        .hasMessageContaining("s.previous")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("keeps its old data"));
    assertThat(replica.isOpen()).isFalse();
    replica.close();
    try (BackboneKeyValueStore reopened = open(replicaDir(), DirectorySwap.FILES_MOVE)) {
      assertOldData(reopened);
    }
  }

  @Test
  void newDataThatCannotBeOpenedIsSwappedBackOut() {
    DirectorySwap.Rename breakNewData =
        (from, to) -> {
          Files.move(from, to);
          if (from.getFileName().toString().endsWith(".installing")) {
            Files.writeString(to.resolve("CURRENT"), "MANIFEST-garbage\n");
          }
        };
    try (BackboneKeyValueStore replica = open(replicaDir(), breakNewData)) {
      assertThatThrownBy(() -> replica.install(snapshot.directory(), DAY))
          .isInstanceOf(FatalBackboneException.class)
          .hasMessageContaining("opening it failed")
          .hasMessageContaining("keeps its old data");
      assertOldData(replica);
    }
  }

  @Test
  void aCrashBetweenTheTwoRenamesIsUndoneAtTheNextOpen() throws IOException {
    // The state a kill -9 leaves after "live -> previous" and before "staging -> live".
    Files.move(liveDb(), liveDb().resolveSibling("s.previous"));
    Files.createDirectories(liveDb().resolveSibling("s.installing"));
    try (BackboneKeyValueStore replica = open(replicaDir(), DirectorySwap.FILES_MOVE)) {
      assertOldData(replica);
    }
    assertThat(Files.exists(liveDb().resolveSibling("s.installing"))).isFalse();
  }

  @Test
  void aCrashAfterTheSwapKeepsTheNewDataAtTheNextOpen() throws IOException {
    // The state a kill -9 leaves after both renames, before the previous data was deleted.
    Files.move(liveDb(), liveDb().resolveSibling("s.previous"));
    Files.createDirectories(liveDb().getParent());
    try (BackboneKeyValueStore source = open(dir.resolve("copy"), DirectorySwap.FILES_MOVE)) {
      source.install(snapshot.directory(), DAY);
    }
    Files.move(dir.resolve("copy").resolve(BackboneKeyValueStore.DB_DIR).resolve("s"), liveDb());
    try (BackboneKeyValueStore replica = open(replicaDir(), DirectorySwap.FILES_MOVE)) {
      assertThat(replica.get(k("new"))).isEqualTo(v("n"));
      assertThat(replica.get(k("old"))).isNull();
    }
    assertThat(Files.exists(liveDb().resolveSibling("s.previous"))).isFalse();
  }
}
