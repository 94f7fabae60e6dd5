package dev.backbone.store;

import static dev.backbone.store.BackboneKeyValueStoreTest.CHANGELOG;
import static dev.backbone.store.BackboneKeyValueStoreTest.k;
import static dev.backbone.store.BackboneKeyValueStoreTest.v;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.store.internals.BackboneKeyValueStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.BatchingStateRestoreCallback;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * snapshot() and install(): consistency, verification, refusal without damage. An install happens
 * as cold bootstrap will make it: into a store that init() just opened, before Kafka Streams asks
 * its committed offset.
 */
class SnapshotTest {
  static final Duration DAY = Duration.ofDays(1);

  @TempDir Path dir;
  TestStoreContext context;
  BackboneKeyValueStore store;

  @BeforeEach
  void open() {
    context =
        new TestStoreContext(dir.resolve("task"), new TaskId(0, 1), StreamsConfig.AT_LEAST_ONCE);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** A replica of the task in its own directory, just initialized (nothing read yet). */
  private BackboneKeyValueStore otherStore(String task) {
    TestStoreContext other =
        new TestStoreContext(dir.resolve(task), new TaskId(0, 1), StreamsConfig.AT_LEAST_ONCE);
    BackboneKeyValueStore s = new BackboneKeyValueStore("s");
    s.init(other, s);
    return s;
  }

  /** A replica that committed old=x at offset 1 before, reopened and initializing again. */
  private BackboneKeyValueStore replicaWithOldData(String task) {
    try (BackboneKeyValueStore before = otherStore(task)) {
      before.putAll(List.of(KeyValue.pair(k("old"), v("x"))));
      before.commit(Map.of(CHANGELOG, 1L));
    }
    return otherStore(task);
  }

  private static void assertHoldsOldData(BackboneKeyValueStore replica) {
    assertThat(replica.isOpen()).isTrue();
    assertThat(replica.get(k("old"))).isEqualTo(v("x"));
    assertThat(replica.committedOffset(CHANGELOG)).isEqualTo(1L);
  }

  @Test
  void aSnapshotHoldsTheLastCommitWithItsOffset() throws IOException {
    store.put(k("a"), v("1"));
    store.commit(Map.of(CHANGELOG, 10L));
    store.put(k("b"), v("uncommitted"));
    Snapshot snapshot = store.snapshot();
    assertThat(snapshot.manifest().offsetOf(CHANGELOG.topic(), 0)).contains(10L);
    assertThat(snapshot.manifest().taskId()).isEqualTo("0_1");
    assertThat(snapshot.manifest().storeName()).isEqualTo("s");
    assertThat(snapshot.manifest().formatVersion()).isEqualTo(SnapshotManifest.FORMAT_VERSION);
    assertThat(snapshot.manifest().files()).isNotEmpty();
    assertThat(Files.exists(snapshot.directory().resolve(SnapshotManifest.FILE_NAME))).isTrue();
    assertThat(snapshot.manifest().dataAsOf()).isNotNull();
    assertThat(context.stores.find("app", new TaskId(0, 1), "s")).containsSame(store);

    try (BackboneKeyValueStore replica = replicaWithOldData("replica")) {
      replica.install(snapshot.directory(), DAY);
      assertThat(replica.get(k("a"))).isEqualTo(v("1"));
      assertThat(replica.get(k("b"))).isNull();
      assertThat(replica.get(k("old"))).isNull();
      assertThat(replica.committedOffset(CHANGELOG)).isEqualTo(10L);
    }
  }

  @Test
  void refusesASnapshotWithAMissingFile() throws IOException {
    Snapshot snapshot = committedSnapshot();
    Files.delete(snapshot.directory().resolve(sst(snapshot)));
    assertRefusedKeepingOldData(snapshot, "missing");
  }

  @Test
  void refusesAFileOfTheWrongSize() throws IOException {
    Snapshot snapshot = committedSnapshot();
    Files.write(
        snapshot.directory().resolve(sst(snapshot)), new byte[] {1}, StandardOpenOption.APPEND);
    assertRefusedKeepingOldData(snapshot, "bytes, the manifest says");
  }

  @Test
  void refusesAFileWithTheWrongChecksum() throws IOException {
    Snapshot snapshot = committedSnapshot();
    Path file = snapshot.directory().resolve(sst(snapshot));
    byte[] content = Files.readAllBytes(file);
    content[content.length / 2] ^= 0x5A;
    Files.delete(file); // a hard link: never write through it into the live store
    Files.write(file, content);
    assertRefusedKeepingOldData(snapshot, "checksum");
  }

  @Test
  void refusesAnUnknownFormatVersion() throws IOException {
    Snapshot snapshot = committedSnapshot();
    rewriteManifest(snapshot, "\"formatVersion\":2", "\"formatVersion\":99");
    assertRefusedKeepingOldData(snapshot, "format version 99");
  }

  @Test
  void refusesAManifestOfAnotherStoreOrTask() throws IOException {
    Snapshot snapshot = committedSnapshot();
    rewriteManifest(snapshot, "\"taskId\":\"0_1\"", "\"taskId\":\"0_2\"");
    assertRefusedKeepingOldData(snapshot, "task 0_2");
  }

  @Test
  void refusesADirectoryWithoutManifest() throws IOException {
    Snapshot snapshot = committedSnapshot();
    Files.delete(snapshot.directory().resolve(SnapshotManifest.FILE_NAME));
    assertRefusedKeepingOldData(snapshot, "incomplete");
  }

  @Test
  void snapshotsStayConsistentWhileWritesContinue() throws Exception {
    // The writer commits counter=n and n keys together; every snapshot must hold exactly the
    // keys of the offset it reports.
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread writer =
        new Thread(
            () -> {
              try {
                for (long n = 1; !stop.get() && n < 200_000; n++) {
                  store.put(key(n), v("x"));
                  if (n % 7 == 0) {
                    store.commit(Map.of(CHANGELOG, n));
                  }
                }
              } catch (Throwable t) {
                failure.set(t);
              }
            });
    writer.start();
    List<Snapshot> snapshots = new ArrayList<>();
    try {
      for (int i = 0; i < 5; i++) {
        snapshots.add(store.snapshot(dir.resolve("snaps")));
      }
    } finally {
      stop.set(true);
      writer.join(60_000);
    }
    assertThat(failure.get()).isNull();
    int index = 0;
    for (Snapshot snapshot : snapshots) {
      if (snapshot.manifest().dataAsOf() == null) {
        // cut before the writer's first commit: nothing to install, and nothing claimed
        assertThat(snapshot.manifest().changelogOffsets()).isEmpty();
        continue;
      }
      try (BackboneKeyValueStore replica = otherStore("replica-" + index++)) {
        replica.install(snapshot.directory(), DAY);
        long offset = snapshot.manifest().offsetOf(CHANGELOG.topic(), 0).orElse(0L);
        assertThat(replica.committedOffset(CHANGELOG)).isEqualTo(offset == 0 ? null : offset);
        long count = 0;
        try (KeyValueIterator<Bytes, byte[]> it = replica.all()) {
          while (it.hasNext()) {
            it.next();
            count++;
          }
        }
        assertThat(count).as("keys of snapshot at offset %d", offset).isEqualTo(offset);
      }
    }
  }

  private static Bytes key(long n) {
    return Bytes.wrap(ByteBuffer.allocate(8).putLong(n).array());
  }

  private Snapshot committedSnapshot() {
    for (int i = 0; i < 100; i++) {
      store.put(k("k" + i), v("v" + i));
    }
    store.commit(Map.of(CHANGELOG, 99L));
    return store.snapshot();
  }

  private static String sst(Snapshot snapshot) {
    return snapshot.manifest().files().stream()
        .map(SnapshotManifest.SnapshotFile::name)
        .filter(n -> n.endsWith(".sst"))
        .findFirst()
        .orElseThrow();
  }

  private static void rewriteManifest(Snapshot snapshot, String from, String to)
      throws IOException {
    Path manifest = snapshot.directory().resolve(SnapshotManifest.FILE_NAME);
    String json = Files.readString(manifest);
    assertThat(json).contains(from);
    Files.writeString(manifest, json.replace(from, to));
  }

  private void assertRefusedKeepingOldData(Snapshot snapshot, String reason) {
    try (BackboneKeyValueStore replica = replicaWithOldData("replica")) {
      assertThatThrownBy(() -> replica.install(snapshot.directory(), DAY))
          .isInstanceOf(FatalBackboneException.class)
          .hasMessageContaining(reason);
      assertHoldsOldData(replica);
    }
  }

  @Test
  void refusesASnapshotOlderThanTheChangelogsDeleteRetention() throws IOException {
    Snapshot snapshot = committedSnapshot();
    String asOf = snapshot.manifest().dataAsOf().toString();
    rewriteManifest(
        snapshot,
        "\"dataAsOf\":\"" + asOf + "\"",
        "\"dataAsOf\":\"" + Instant.now().minus(Duration.ofHours(25)) + "\"");
    assertRefusedKeepingOldData(snapshot, "delete.retention.ms");
  }

  @Test
  void refusesASnapshotThatCannotSayWhenItsDataWasCurrent() {
    // A store that only restored (a standby) never committed processing writes.
    BatchingStateRestoreCallback restore = (BatchingStateRestoreCallback) context.restoreCallback;
    restore.restoreAll(List.of(KeyValue.pair(v("a"), v("1"))));
    store.commit(Map.of(CHANGELOG, 5L));
    Snapshot snapshot = store.snapshot();
    assertThat(snapshot.manifest().dataAsOf()).isNull();
    assertRefusedKeepingOldData(snapshot, "does not say when its data was current");
  }

  @Test
  void refusesAnInstallOnceKafkaStreamsReadTheCommittedOffset() {
    Snapshot snapshot = committedSnapshot();
    try (BackboneKeyValueStore replica = replicaWithOldData("replica")) {
      replica.committedOffset(CHANGELOG);
      assertThatThrownBy(() -> replica.install(snapshot.directory(), DAY))
          .isInstanceOf(FatalBackboneException.class)
          .hasMessageContaining("already read the store's committed offset");
      assertHoldsOldData(replica);
    }
  }

  @Test
  void refusesAnInstallOverUncommittedWrites() {
    Snapshot snapshot = committedSnapshot();
    try (BackboneKeyValueStore replica = replicaWithOldData("replica")) {
      replica.put(k("pending"), v("p"));
      assertThatThrownBy(() -> replica.install(snapshot.directory(), DAY))
          .isInstanceOf(FatalBackboneException.class)
          .hasMessageContaining("uncommitted writes");
      assertThat(replica.get(k("pending"))).isEqualTo(v("p"));
    }
  }
}
