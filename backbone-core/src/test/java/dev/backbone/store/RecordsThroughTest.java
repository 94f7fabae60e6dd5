package dev.backbone.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.store.internals.BackboneKeyValueStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot cut with the changelog's end established past its last record (a transaction's marker
 * after it) says so in its manifest, and a store that installs it restores from after the marker: a
 * changelog whose retention deleted the marker then still serves it. Without the attestation, or
 * when the data does not reach the attested records, nothing is claimed.
 */
class RecordsThroughTest {
  private static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 2);

  @TempDir Path dir;

  private BackboneKeyValueStore open(String name) {
    BackboneKeyValueStore store = new BackboneKeyValueStore("s");
    store.init(
        new TestStoreContext(dir.resolve(name), new TaskId(0, 2), StreamsConfig.AT_LEAST_ONCE),
        store);
    return store;
  }

  private static void write(BackboneKeyValueStore store, long offset) {
    store.put(
        Bytes.wrap(("k" + offset).getBytes(StandardCharsets.UTF_8)),
        "v".getBytes(StandardCharsets.UTF_8));
    store.commit(Map.of(CHANGELOG, offset));
  }

  @Test
  void anInstallRestoresFromAfterTheMarkersTheSnapshotWasVouchedThrough() {
    try (BackboneKeyValueStore source = open("source");
        BackboneKeyValueStore replica = open("replica")) {
      write(source, 10);
      // Offset 11 is the transaction's commit marker: the end is 12.
      Snapshot snapshot =
          source.snapshot(Map.of(CHANGELOG, 10L), Map.of(CHANGELOG, 12L), Instant.now());

      assertThat(snapshot.manifest().offsetOf(CHANGELOG.topic(), 2)).contains(10L);
      assertThat(snapshot.manifest().recordsThrough())
          .containsExactly(new SnapshotManifest.ChangelogOffset(CHANGELOG.topic(), 2, 11));
      assertThat(snapshot.manifest().coveredThrough(CHANGELOG.topic(), 2)).contains(11L);

      replica.install(snapshot.directory(), Duration.ofDays(1));
      assertThat(replica.committedOffset(CHANGELOG)).isEqualTo(11L);
      assertThat(replica.get(Bytes.wrap("k10".getBytes(StandardCharsets.UTF_8)))).isNotNull();
    }
  }

  @Test
  void withoutTheRecordsThroughTheAttestedOffsetNothingIsClaimed() {
    try (BackboneKeyValueStore source = open("source")) {
      write(source, 10);
      // The store has not applied record 11: the end at 13 says nothing about it.
      Snapshot behind =
          source.snapshot(Map.of(CHANGELOG, 11L), Map.of(CHANGELOG, 13L), Instant.now());
      Snapshot plain = source.snapshot();

      assertThat(behind.manifest().recordsThrough()).isEmpty();
      assertThat(plain.manifest().recordsThrough()).isEmpty();
      assertThat(plain.manifest().coveredThrough(CHANGELOG.topic(), 2)).contains(10L);
      assertThat(List.of(behind, plain))
          .allSatisfy(s -> assertThat(s.manifest().highestCoveredOffset()).isEqualTo(10));
    }
  }
}
