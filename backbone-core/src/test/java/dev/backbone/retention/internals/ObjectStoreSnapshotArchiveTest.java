package dev.backbone.retention.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.BackboneException;
import dev.backbone.retention.ArchiveSettings;
import dev.backbone.retention.UploadResult;
import dev.backbone.store.Snapshot;
import dev.backbone.store.TestStoreContext;
import dev.backbone.store.internals.BackboneKeyValueStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Failures inside a backend, which only a backend wrapped here can produce on demand. */
class ObjectStoreSnapshotArchiveTest {
  @TempDir Path dir;
  BackboneKeyValueStore store;

  @BeforeEach
  void open() {
    TestStoreContext context =
        new TestStoreContext(dir.resolve("task"), new TaskId(0, 1), StreamsConfig.AT_LEAST_ONCE);
    store = new BackboneKeyValueStore("s");
    store.init(context, store);
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** A directory archive whose SST uploads break halfway while {@code breaking} is set. */
  private static final class BreakingBackend implements ArchiveBackend {
    final LocalDirectoryArchive delegate;
    final AtomicBoolean breaking = new AtomicBoolean(true);

    BreakingBackend(Path root) throws IOException {
      delegate = new LocalDirectoryArchive(root);
    }

    @Override
    public void put(String key, Content content) throws IOException {
      if (!breaking.get() || !key.endsWith(".sst")) {
        delegate.put(key, content);
        return;
      }
      Content half =
          new Content() {
            @Override
            public long size() {
              return content.size();
            }

            @Override
            public InputStream open(long offset, long length) throws IOException {
              InputStream in = content.open(offset, length);
              in.readNBytes((int) (length / 2));
              throw new IOException("connection reset");
            }
          };
      delegate.put(key, half);
    }

    @Override
    public String describe() {
      return delegate.describe();
    }

    @Override
    public long sizeOf(String key) throws IOException {
      return delegate.sizeOf(key);
    }

    @Override
    public InputStream open(String key) throws IOException {
      return delegate.open(key);
    }

    @Override
    public List<StoredObject> list(String prefix) throws IOException {
      return delegate.list(prefix);
    }

    @Override
    public void delete(String key) throws IOException {
      delegate.delete(key);
    }

    @Override
    public void close() {}
  }

  @Test
  void anUploadBrokenMidFileListsNothingAndRepeatingItCompletesIt() throws IOException {
    store.put(Bytes.wrap("k".getBytes(StandardCharsets.UTF_8)), new byte[] {1});
    store.commit(Map.of(new TopicPartition("app-s-changelog", 1), 1L));
    Snapshot snapshot = store.snapshot();
    BreakingBackend backend = new BreakingBackend(dir.resolve("archive"));
    ArchiveSettings settings = ArchiveSettings.of(dir.resolve("archive").toUri().toString());
    try (ObjectStoreSnapshotArchive archive =
        new ObjectStoreSnapshotArchive(backend, settings, Clock.systemUTC())) {

      assertThatThrownBy(() -> archive.upload(snapshot))
          .isInstanceOfSatisfying(
              BackboneException.class,
              e -> {
                assertThat(e.code()).isEqualTo("ARCHIVE_UNAVAILABLE");
                assertThat(e.isRetriable()).isTrue();
              })
          .hasMessageContaining(".sst")
          .hasMessageContaining("connection reset");
      assertThat(archive.list("app", "0_1", "s")).isEmpty();
      assertThat(backend.list("app/0_1/s/files/"))
          .extracting(ArchiveBackend.StoredObject::key)
          .noneMatch(k -> k.endsWith(".sst"));

      backend.breaking.set(false);
      UploadResult again = archive.upload(snapshot);
      assertThat(again.filesSent()).isPositive();
      assertThat(archive.list("app", "0_1", "s")).containsExactly(again.snapshot());
    }
  }
}
