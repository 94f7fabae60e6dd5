package dev.backbone.retention;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.bootstrap.BootstrapSource;
import dev.backbone.bootstrap.ColdBootstrap;
import dev.backbone.bootstrap.PeerSnapshotFetcher;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.TestStoreContext;
import dev.backbone.store.internals.BackboneKeyValueStore;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bootstrap's copy from the archive: the newest snapshot an install would accept, passing over
 * one below the offset a truncated changelog requires and one older than the changelog's {@code
 * delete.retention.ms}; none acceptable is no copy, never a partial one.
 */
class ArchiveBootstrapTest {
  private static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 3);
  private static final Duration DAY = Duration.ofDays(1);

  @TempDir Path dir;
  private SnapshotArchive archive;
  private BackboneKeyValueStore store;

  @BeforeEach
  void archiveTwoSnapshots() {
    archive = SnapshotArchives.open(ArchiveSettings.of(dir.resolve("archive").toUri().toString()));
    store = new BackboneKeyValueStore("s");
    store.init(
        new TestStoreContext(dir.resolve("task"), new TaskId(0, 3), StreamsConfig.AT_LEAST_ONCE),
        store);
    for (long offset : new long[] {100, 200}) {
      store.put(
          Bytes.wrap(("k" + offset).getBytes(StandardCharsets.UTF_8)),
          "v".getBytes(StandardCharsets.UTF_8));
      store.commit(Map.of(CHANGELOG, offset));
      Snapshot snapshot = store.snapshot();
      archive.upload(snapshot);
    }
  }

  @AfterEach
  void close() {
    store.close();
    archive.close();
  }

  private Optional<PeerSnapshotFetcher.Result> copy(Instant now, long minOffset) {
    ArchiveBootstrap bootstrap =
        new ArchiveBootstrap(
            archive, URI.create("file:///archive"), Clock.fixed(now, ZoneOffset.UTC));
    return bootstrap.copy(
        BootstrapSource.Request.empty("app", new TaskId(0, 3), "s"),
        dir.resolve("staging"),
        new PeerSnapshotFetcher.Progress(),
        DAY,
        minOffset);
  }

  private static long offsetOf(PeerSnapshotFetcher.Result result) throws Exception {
    byte[] json = Files.readAllBytes(result.directory().resolve(SnapshotManifest.FILE_NAME));
    return SnapshotManifest.fromJson(json).offsetOf(CHANGELOG.topic(), 3).orElseThrow();
  }

  @Test
  void theNewestSnapshotIsCopiedAndNamesTheArchiveAsItsSource() throws Exception {
    PeerSnapshotFetcher.Result result = copy(Instant.now(), -1).orElseThrow();

    assertThat(offsetOf(result)).isEqualTo(200);
    assertThat(result.from().nodeId()).isEqualTo(ColdBootstrap.ARCHIVE);
    assertThat(result.directory().getParent()).isEqualTo(dir.resolve("staging"));
  }

  @Test
  void aRequiredOffsetAboveEverySnapshotOrDataTooOldForTheTombstonesGivesNoCopy() {
    assertThat(copy(Instant.now(), 200)).isPresent();
    assertThat(copy(Instant.now(), 201)).isEmpty();
    assertThat(copy(Instant.now().plus(DAY).plusSeconds(60), -1)).isEmpty();
    assertThat(dir.resolve("staging"))
        .satisfiesAnyOf(
            p -> assertThat(Files.exists(p)).isFalse(), p -> assertThat(p).isDirectory());
  }

  @Test
  void theRefusalNamesWhyASnapshotCannotBeInstalled() {
    SnapshotManifest manifest = archive.list("app", "0_3", "s").get(0).manifest();
    Instant now = manifest.dataAsOf().plusSeconds(10);

    assertThat(ArchiveBootstrap.refusal(manifest, DAY, 150, now)).isNull();
    assertThat(ArchiveBootstrap.refusal(manifest, DAY, 250, now))
        .contains("records through offset 200")
        .contains("up to 250");
    assertThat(ArchiveBootstrap.refusal(manifest, Duration.ofSeconds(5), -1, now))
        .contains("not younger than the changelog's delete.retention.ms");
  }
}
