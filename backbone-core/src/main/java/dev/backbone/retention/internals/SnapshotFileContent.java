package dev.backbone.retention.internals;

import dev.backbone.bootstrap.internals.Throttle;
import dev.backbone.store.SnapshotManifest.SnapshotFile;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * A snapshot's file as a backend reads it to upload it, checked against the manifest as the bytes
 * go: the read that delivers the last byte fails if the CRC32C of all of them differs from the
 * manifest's, so a backend never completes an object whose content its key (which holds the
 * checksum) does not describe. Once a mismatch is seen every read fails, so a retry cannot complete
 * it either.
 *
 * <p>A backend may read the content more than once (retries) and in slices (multipart parts, in
 * order): each byte counts once, the first time a read reaches past what was counted.
 */
final class SnapshotFileContent implements ArchiveBackend.Content {
  private final Path path;
  private final SnapshotFile file;
  private final Throttle throttle;
  private final CRC32C crc = new CRC32C();
  private long counted;
  private String mismatch;

  SnapshotFileContent(Path path, SnapshotFile file, Throttle throttle) {
    this.path = path;
    this.file = file;
    this.throttle = throttle;
  }

  @Override
  public long size() {
    return file.size();
  }

  /** Why the content is not what the manifest says, or null if no difference was seen. */
  synchronized String mismatch() {
    return mismatch;
  }

  @Override
  public InputStream open(long offset, long length) throws IOException {
    long actual = Files.size(path);
    if (actual != file.size()) {
      fail("it has " + actual + " bytes, the manifest says " + file.size());
    }
    account(offset, new byte[0], 0, 0);
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    channel.position(offset);
    return new FilterInputStream(Channels.newInputStream(channel)) {
      private long position = offset;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        long left = offset + length - position;
        if (left <= 0) {
          return -1;
        }
        int n = super.read(b, off, (int) Math.min(len, left));
        if (n < 0) {
          throw new EOFException(path + " ended at byte " + position + " of " + file.size());
        }
        try {
          throttle.acquire(n);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("the upload was cancelled");
        }
        account(position, b, off, n);
        position += n;
        return n;
      }
    };
  }

  private synchronized void account(long position, byte[] b, int off, int n) throws IOException {
    if (mismatch != null) {
      throw new IOException(mismatch);
    }
    if (position <= counted && position + n > counted) {
      int skip = (int) (counted - position);
      crc.update(b, off + skip, n - skip);
      counted = position + n;
      if (counted == file.size()) {
        verify();
      }
    } else if (file.size() == 0 && counted == 0) {
      verify();
    }
  }

  private void verify() throws IOException {
    String actual = SnapshotFile.checksumText(crc);
    if (!actual.equals(file.crc32c())) {
      fail("its content has checksum " + actual + ", the manifest says " + file.crc32c());
    }
  }

  private synchronized void fail(String problem) throws IOException {
    mismatch = problem;
    throw new IOException(problem);
  }
}
