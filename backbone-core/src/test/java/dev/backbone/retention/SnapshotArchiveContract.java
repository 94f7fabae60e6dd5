package dev.backbone.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.BackboneException;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotManifest.SnapshotFile;
import dev.backbone.store.TestStoreContext;
import dev.backbone.store.internals.BackboneKeyValueStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link SnapshotArchive} backend must do, on real snapshots of a real RocksDB store:
 * {@code LocalDirectoryArchiveTest} runs it on a directory, {@code S3SnapshotArchiveIT} (in
 * backbone-test-kit) on S3Proxy. A subclass says where its archive is and how to damage an object
 * in it behind the archive's back.
 */
public abstract class SnapshotArchiveContract {
  protected static final String APP = "app";
  protected static final String TASK = "0_1";
  protected static final String STORE = "s";

  @TempDir protected Path dir;

  private final List<BackboneKeyValueStore> stores = new ArrayList<>();
  private final Map<String, Long> offsets = new HashMap<>();
  private final List<SnapshotArchive> archives = new ArrayList<>();
  protected BackboneKeyValueStore store;
  protected SnapshotArchive archive;

  /**
   * The settings of the backend under test, with this grace period; every call of one test names
   * the same (empty at its start) location.
   */
  protected abstract ArchiveSettings settings(Duration retainGrace);

  /** Flips one byte of the archived object under {@code key} (relative to the archive's root). */
  protected abstract void corrupt(String key) throws Exception;

  @BeforeEach
  void openStoreAndArchive() {
    store = openStore("task", STORE);
    archive = open(Duration.ZERO);
  }

  @AfterEach
  void closeAll() {
    archives.forEach(SnapshotArchive::close);
    stores.forEach(BackboneKeyValueStore::close);
  }

  protected SnapshotArchive open(Duration retainGrace) {
    SnapshotArchive opened = SnapshotArchives.open(settings(retainGrace));
    archives.add(opened);
    return opened;
  }

  protected BackboneKeyValueStore openStore(String taskDir, String name) {
    TestStoreContext context =
        new TestStoreContext(dir.resolve(taskDir), new TaskId(0, 1), StreamsConfig.AT_LEAST_ONCE);
    BackboneKeyValueStore opened = new BackboneKeyValueStore(name);
    opened.init(context, opened);
    stores.add(opened);
    return opened;
  }

  /**
   * Writes {@code count} keys {@code prefix-i} of {@code valueBytes} random bytes, commits, cuts.
   */
  protected Snapshot cut(BackboneKeyValueStore into, String prefix, int count, int valueBytes) {
    Random random = new Random(prefix.hashCode());
    for (int i = 0; i < count; i++) {
      byte[] value = new byte[valueBytes];
      random.nextBytes(value);
      into.put(key(prefix + "-" + i), value);
    }
    TopicPartition changelog = new TopicPartition(APP + "-" + into.name() + "-changelog", 1);
    long offset = offsets.merge(into.name(), (long) count, Long::sum);
    into.commit(Map.of(changelog, offset));
    return into.snapshot();
  }

  protected Snapshot cut(String prefix) {
    return cut(store, prefix, 200, 100);
  }

  protected static Bytes key(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  protected static String fileKey(SnapshotManifest manifest, SnapshotFile file) {
    return manifest.applicationId()
        + "/"
        + manifest.taskId()
        + "/"
        + manifest.storeName()
        + "/files/"
        + file.crc32c()
        + "-"
        + file.size()
        + "-"
        + file.name();
  }

  protected static SnapshotFile sst(Snapshot snapshot) {
    return snapshot.manifest().files().stream()
        .filter(f -> f.name().endsWith(".sst"))
        .findFirst()
        .orElseThrow();
  }

  /** Asserts the two directories hold the same files, byte for byte. */
  protected static void assertSameFiles(Path expected, Path actual) throws IOException {
    Set<String> names = namesIn(expected);
    assertThat(namesIn(actual)).isEqualTo(names);
    for (String name : names) {
      assertThat(Files.readAllBytes(actual.resolve(name)))
          .as(name)
          .isEqualTo(Files.readAllBytes(expected.resolve(name)));
    }
  }

  private static Set<String> namesIn(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  protected static List<Path> entriesOf(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(directory)) {
      return files.toList();
    }
  }

  @Test
  void aDownloadedSnapshotIsTheUploadedOneAndInstallsIntoAStore() throws IOException {
    Snapshot snapshot = cut("a");

    UploadResult uploaded = archive.upload(snapshot);
    List<ArchivedSnapshot> listed = archive.list(APP, TASK, STORE);
    Snapshot downloaded = archive.download(listed.get(0), dir.resolve("downloads"));

    assertThat(uploaded.filesSent()).isEqualTo(snapshot.manifest().files().size());
    assertThat(uploaded.bytesSent()).isEqualTo(snapshot.manifest().totalBytes());
    assertThat(listed).containsExactly(uploaded.snapshot());
    assertThat(downloaded.manifest()).isEqualTo(snapshot.manifest());
    assertThat(downloaded.directory().getParent()).isEqualTo(dir.resolve("downloads"));
    assertSameFiles(snapshot.directory(), downloaded.directory());
    assertThat(entriesOf(dir.resolve("downloads"))).containsExactly(downloaded.directory());
    try (BackboneKeyValueStore replica = new BackboneKeyValueStore(STORE)) {
      replica.init(
          new TestStoreContext(
              dir.resolve("replica"), new TaskId(0, 1), StreamsConfig.AT_LEAST_ONCE),
          replica);
      replica.install(downloaded.directory(), Duration.ofDays(1));
      assertThat(replica.get(key("a-7"))).isEqualTo(store.get(key("a-7")));
      assertThat(replica.committedOffsets()).isEqualTo(store.committedOffsets());
    }
  }

  @Test
  void aSecondSnapshotSendsOnlyItsNewFilesAndARepeatedUploadSendsNothing() {
    Snapshot first = cut("a");
    Snapshot second = cut("b");
    Set<SnapshotFile> firstFiles = Set.copyOf(first.manifest().files());
    List<SnapshotFile> shared =
        second.manifest().files().stream().filter(firstFiles::contains).toList();

    archive.upload(first);
    UploadResult result = archive.upload(second);
    UploadResult again = archive.upload(second);

    assertThat(shared).as("the first snapshot's SST file is in the second").isNotEmpty();
    assertThat(result.filesPresent()).isEqualTo(shared.size());
    assertThat(result.bytesPresent())
        .isEqualTo(shared.stream().mapToLong(SnapshotFile::size).sum());
    assertThat(result.filesSent()).isEqualTo(second.manifest().files().size() - shared.size());
    assertThat(again.filesSent()).isZero();
    assertThat(again.snapshot()).isEqualTo(result.snapshot());
    assertThat(archive.list(APP, TASK, STORE))
        .extracting(ArchivedSnapshot::manifest)
        .containsExactly(second.manifest(), first.manifest());
  }

  @Test
  void aCorruptedArchivedFileFailsTheDownloadNamingItAndLeavesNothingBehind() throws Exception {
    Snapshot snapshot = cut("a");
    archive.upload(snapshot);
    SnapshotFile damaged = sst(snapshot);
    corrupt(fileKey(snapshot.manifest(), damaged));
    ArchivedSnapshot archived = archive.list(APP, TASK, STORE).get(0);

    assertThatThrownBy(() -> archive.download(archived, dir.resolve("downloads")))
        .isInstanceOfSatisfying(
            BackboneException.class, e -> assertThat(e.code()).isEqualTo("ARCHIVE_FILE_CORRUPT"))
        .hasMessageContaining(damaged.name())
        .hasMessageContaining(archived.id())
        .hasMessageContaining(archive.describe());
    assertThat(entriesOf(dir.resolve("downloads"))).isEmpty();
  }

  @Test
  void anUploadThatFailsHalfwayLeavesNoListedSnapshotAndNoDamagedFile() throws IOException {
    Snapshot snapshot = cut(store, "a", 2000, 100);
    SnapshotFile changed = sst(snapshot);
    Path local = snapshot.directory().resolve(changed.name());
    byte[] bytes = Files.readAllBytes(local);
    bytes[bytes.length / 2] ^= 1;
    Files.delete(local); // an SST file of a checkpoint is a hard link: never write through it
    Files.write(local, bytes);

    assertThatThrownBy(() -> archive.upload(snapshot))
        .isInstanceOfSatisfying(
            BackboneException.class, e -> assertThat(e.code()).isEqualTo("ARCHIVE_SOURCE_INVALID"))
        .hasMessageContaining(changed.name());
    assertThat(archive.list(APP, TASK, STORE)).isEmpty();
    assertThat(archive.inventory(APP)).isEmpty();

    Snapshot next = cut("b");
    UploadResult result = archive.upload(next);
    assertThat(archive.list(APP, TASK, STORE)).containsExactly(result.snapshot());
    assertThat(result.filesPresent())
        .as("only the files the failed upload completed are reused, never the damaged one")
        .isLessThan(next.manifest().files().size());
    Snapshot downloaded = archive.download(result.snapshot(), dir.resolve("downloads"));
    assertSameFiles(next.directory(), downloaded.directory());
  }

  @Test
  void anUploadMissingAFileWritesNoManifest() throws IOException {
    Snapshot snapshot = cut("a");
    SnapshotFile missing = sst(snapshot);
    Files.delete(snapshot.directory().resolve(missing.name()));

    assertThatThrownBy(() -> archive.upload(snapshot))
        .isInstanceOfSatisfying(
            BackboneException.class, e -> assertThat(e.code()).isEqualTo("ARCHIVE_SOURCE_INVALID"))
        .hasMessageContaining(missing.name());
    assertThat(archive.list(APP, TASK, STORE)).isEmpty();
  }

  @Test
  void retainNewestDeletesOldManifestsAndTheFilesOnlyTheyNameButKeepsSharedOnes()
      throws IOException {
    Snapshot first = cut("a");
    Snapshot second = cut("b");
    Snapshot third = cut("c");
    for (Snapshot s : List.of(first, second, third)) {
      archive.upload(s);
    }
    Set<SnapshotFile> kept = Set.copyOf(third.manifest().files());
    long onlyOld =
        Stream.concat(first.manifest().files().stream(), second.manifest().files().stream())
            .distinct()
            .filter(f -> !kept.contains(f))
            .count();

    RetainResult result = archive.retainNewest(APP, TASK, STORE, 1);

    assertThat(result.snapshotsDeleted()).isEqualTo(2);
    assertThat(result.snapshotsKept()).isEqualTo(1);
    assertThat(result.filesDeleted()).isEqualTo((int) onlyOld);
    assertThat(archive.list(APP, TASK, STORE))
        .extracting(ArchivedSnapshot::manifest)
        .containsExactly(third.manifest());
    assertThat(archive.inventory(APP))
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.snapshots()).isEqualTo(1);
              assertThat(s.files()).isEqualTo(kept.size());
              assertThat(s.newest())
                  .isEqualTo(
                      third
                          .manifest()
                          .createdAt()
                          .truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
            });
    Snapshot downloaded =
        archive.download(archive.list(APP, TASK, STORE).get(0), dir.resolve("downloads"));
    assertSameFiles(third.directory(), downloaded.directory());
  }

  @Test
  void retainNewestKeepsUnnamedFilesYoungerThanTheGracePeriod() {
    SnapshotArchive patient = open(Duration.ofHours(1));
    archive.upload(cut("a"));
    Snapshot newest = cut("b");
    archive.upload(newest);

    RetainResult result = patient.retainNewest(APP, TASK, STORE, 1);

    assertThat(result.snapshotsDeleted()).isEqualTo(1);
    assertThat(result.filesDeleted()).isZero();
    assertThat(result.filesInGrace()).isPositive();
    assertThat(archive.list(APP, TASK, STORE))
        .extracting(ArchivedSnapshot::manifest)
        .containsExactly(newest.manifest());
  }

  @Test
  void theInventoryCountsEveryStoreOfTheApplication() {
    BackboneKeyValueStore other = openStore("other", "t");
    Snapshot a = cut("a");
    Snapshot t = cut(other, "x", 100, 50);
    archive.upload(a);
    archive.upload(t);
    archive.upload(cut("b"));

    List<ArchivedStore> inventory = archive.inventory(APP);

    assertThat(inventory)
        .extracting(ArchivedStore::storeName, ArchivedStore::snapshots)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(STORE, 2),
            org.assertj.core.groups.Tuple.tuple("t", 1));
    assertThat(inventory.get(1).bytes()).isGreaterThan(t.manifest().totalBytes());
    assertThat(archive.inventory("another-app")).isEmpty();
  }
}
