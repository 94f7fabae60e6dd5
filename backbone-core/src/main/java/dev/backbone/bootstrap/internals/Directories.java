package dev.backbone.bootstrap.internals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Removing the directories bootstrap creates (staging copies, lent snapshots), and making what it
 * writes durable.
 */
public final class Directories {
  private Directories() {}

  /**
   * Deletes a directory and everything under it, if it exists.
   *
   * @return null once it is gone, else the failure (the caller logs it with its context)
   */
  public static Exception deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return null;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
      return null;
    } catch (IOException | UncheckedIOException e) {
      return Files.exists(dir) ? e : null;
    }
  }

  /**
   * Forces a file's or a directory's content and metadata to the disk ({@code fsync}). A file a
   * directory gained (by create or rename) survives a machine crash only once the directory is
   * forced too; Linux opens a directory for reading, as Kafka's own {@code Utils.flushDir} does.
   */
  public static void force(Path path) throws IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }
}
