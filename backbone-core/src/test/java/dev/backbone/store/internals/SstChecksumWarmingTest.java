package dev.backbone.store.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.TestStoreContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
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
 * The background checksumming of a store's live SST files: a snapshot cut afterwards finds every
 * checksum computed, each one right, and files compacted away are forgotten.
 */
class SstChecksumWarmingTest {
  private static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 0);

  @TempDir Path dir;
  private BackboneKeyValueStore store;
  private long offset;

  @BeforeEach
  void open() {
    TestStoreContext context =
        new TestStoreContext(dir.resolve("task"), new TaskId(0, 0), StreamsConfig.AT_LEAST_ONCE);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** Writes and commits a batch, then flushes it into an SST file (a snapshot flushes). */
  private void writeAndFlush(int keys, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < keys; i++) {
      byte[] value = new byte[100];
      random.nextBytes(value);
      store.put(Bytes.wrap(("k" + i).getBytes()), value);
    }
    store.commit(Map.of(CHANGELOG, offset += keys));
    store.snapshot(dir.resolve("flushes"));
  }

  private Map<String, Long> liveSsts() throws IOException {
    Map<String, Long> files = new HashMap<>();
    try (Stream<Path> listing = Files.list(dir.resolve("task").resolve("backbone").resolve("s"))) {
      for (Path p : listing.filter(p -> p.toString().endsWith(".sst")).toList()) {
        files.put(p.getFileName().toString(), Files.size(p));
      }
    }
    return files;
  }

  @Test
  void aCutAfterWarmingFindsEveryChecksumComputedAndRight() throws Exception {
    writeAndFlush(5_000, 1);
    writeAndFlush(5_000, 2);
    Map<String, Long> live = liveSsts();
    assertThat(live).isNotEmpty();

    store.warmChecksums();

    live.forEach(
        (name, size) -> assertThat(store.hasChecksumOf(name, size)).as("warmed %s", name).isTrue());
    Snapshot cut = store.snapshot(dir.resolve("cut"));
    for (SnapshotManifest.SnapshotFile f : cut.manifest().files()) {
      assertThat(f.crc32c())
          .as("the manifest's checksum of %s is the file's", f.name())
          .isEqualTo(SnapshotManifest.SnapshotFile.checksumOf(cut.directory().resolve(f.name())));
    }
  }

  @Test
  void filesCompactedAwayAreForgotten() throws Exception {
    writeAndFlush(2_000, 1);
    Map<String, Long> first = liveSsts();
    store.warmChecksums();
    first.forEach((name, size) -> assertThat(store.hasChecksumOf(name, size)).isTrue());

    // More flushed files than level 0 holds before RocksDB compacts them into level 1.
    for (int i = 2; i <= 6; i++) {
      writeAndFlush(2_000, i);
    }
    await("RocksDB compacted the first file away")
        .atMost(Duration.ofSeconds(30))
        .until(() -> !liveSsts().keySet().containsAll(first.keySet()));
    store.warmChecksums();

    first.forEach(
        (name, size) -> {
          if (!isLive(name)) {
            assertThat(store.hasChecksumOf(name, size)).as("forgot %s", name).isFalse();
          }
        });
    liveSsts().forEach((name, size) -> assertThat(store.hasChecksumOf(name, size)).isTrue());
  }

  private boolean isLive(String name) {
    try {
      return liveSsts().containsKey(name);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
