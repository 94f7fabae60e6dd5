package dev.backbone.retention.internals;

import dev.backbone.bootstrap.internals.Directories;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * An archive in a directory, local or shared (NFS): a key is a relative path below it. Each object
 * is written to a hidden temporary file beside its final name, forced to disk, then renamed
 * atomically over the name and the directory forced, so after a crash a name holds a whole object
 * or none. A temporary file left by a crash is an object no manifest names, which retention deletes
 * once older than its grace period.
 */
final class LocalDirectoryArchive implements ArchiveBackend {
  private static final String TMP_PREFIX = ".tmp-";

  private final Path root;

  LocalDirectoryArchive(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    Files.createDirectories(this.root);
  }

  @Override
  public String describe() {
    return "file:" + root;
  }

  @Override
  public long sizeOf(String key) throws IOException {
    try {
      return Files.readAttributes(pathOf(key), BasicFileAttributes.class).size();
    } catch (NoSuchFileException e) {
      return -1;
    }
  }

  @Override
  public void put(String key, Content content) throws IOException {
    Path target = pathOf(key);
    Path dir = target.getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve(TMP_PREFIX + UUID.randomUUID());
    try {
      try (InputStream in = content.open(0, content.size());
          FileChannel out =
              FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        OutputStream stream = Channels.newOutputStream(out);
        in.transferTo(stream);
        out.force(true);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Directories.force(dir);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  @Override
  public InputStream open(String key) throws IOException {
    return Files.newInputStream(pathOf(key));
  }

  @Override
  public List<StoredObject> list(String prefix) throws IOException {
    Path dir = pathOf(prefix);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<StoredObject> objects = new ArrayList<>();
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.toList()) {
        BasicFileAttributes attributes;
        try {
          attributes = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
          continue; // deleted since the walk saw it
        }
        if (attributes.isRegularFile()) {
          objects.add(
              new StoredObject(
                  keyOf(path), attributes.size(), attributes.lastModifiedTime().toInstant()));
        }
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return objects;
  }

  @Override
  public void delete(String key) throws IOException {
    Files.deleteIfExists(pathOf(key));
  }

  @Override
  public void close() {}

  private Path pathOf(String key) {
    Path path = root.resolve(key).normalize();
    if (!path.startsWith(root)) {
      throw new IllegalArgumentException("key " + key + " leaves the archive " + root);
    }
    return path;
  }

  private String keyOf(Path path) {
    return root.relativize(path).toString().replace(path.getFileSystem().getSeparator(), "/");
  }
}
