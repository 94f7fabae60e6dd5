package dev.backbone.retention.internals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.List;

/**
 * Where an archive keeps its objects: keys ({@code app/task/store/files/...}, relative to the
 * archive's root) to immutable byte strings. Every failure to reach the store is an {@link
 * IOException}; the archive above turns it into a message that names the snapshot and the file.
 */
interface ArchiveBackend extends AutoCloseable {

  /** An object as a listing shows it. */
  record StoredObject(String key, long size, Instant lastModified) {}

  /** The bytes of an object to store, readable again from any offset (for retries and parts). */
  interface Content {
    /** How many bytes it has. */
    long size();

    /** A stream of {@code length} bytes from {@code offset} on. */
    InputStream open(long offset, long length) throws IOException;

    /** Content held in memory (a manifest). */
    static Content of(byte[] bytes) {
      return new Content() {
        @Override
        public long size() {
          return bytes.length;
        }

        @Override
        public InputStream open(long offset, long length) {
          return new ByteArrayInputStream(bytes, (int) offset, (int) length);
        }
      };
    }
  }

  /** {@code file:/path} or {@code s3://bucket/prefix (endpoint ...)}. */
  String describe();

  /** The object's size, or -1 if there is none under {@code key}. */
  long sizeOf(String key) throws IOException;

  /**
   * Stores {@code content} under {@code key}, replacing what is there: a reader sees the old object
   * or the whole new one, never part of it. Fails if reading the content fails.
   */
  void put(String key, Content content) throws IOException;

  /**
   * Reads an object. The caller closes the stream; closing it from another thread aborts a read in
   * progress.
   *
   * @throws NoSuchFileException if there is none under {@code key}
   */
  InputStream open(String key) throws IOException;

  /** Every object whose key starts with {@code prefix} (which ends with {@code /}), any depth. */
  List<StoredObject> list(String prefix) throws IOException;

  /** Deletes an object; deleting one that is not there is no error. */
  void delete(String key) throws IOException;

  @Override
  void close();
}
