package dev.backbone.retention;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** The archive in a local directory: {@link SnapshotArchiveContract}. */
class LocalDirectoryArchiveTest extends SnapshotArchiveContract {

  @Override
  protected ArchiveSettings settings(Duration retainGrace) {
    return ArchiveSettings.of(dir.resolve("archive").toUri().toString())
        .withRetainGrace(retainGrace);
  }

  @Override
  protected void corrupt(String key) throws Exception {
    Path file = dir.resolve("archive").resolve(key);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 1;
    Files.write(file, bytes);
  }
}
