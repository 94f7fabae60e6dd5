package dev.backbone.server.internals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * The opaque cursor of a scan: the last key a page returned, bound to the store and the scan (kind
 * and bounds) it came from.
 *
 * <p>A cursor is a position in key order, not in any node's iterator, so it survives a rebalance, a
 * node restart and (later) a rescale: the next page starts right after that key, whichever nodes
 * own the partitions then. It never skips or repeats a key. A cursor presented with another scan is
 * refused (400 {@code BAD_CURSOR}) rather than silently applied to the wrong range.
 *
 * <p>Layout, base64url without padding: version (1 byte), the first 8 bytes of SHA-256 over the
 * store name and the scan's description, then the key (UTF-8, length-prefixed).
 */
final class ScanCursor {
  private static final byte VERSION = 1;
  private static final int MAX_TOKEN_CHARS = 8 * 1024;

  private ScanCursor() {}

  /** The cursor that continues a scan after {@code lastKey}. */
  static String encode(String store, String scan, String lastKey) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.write(binding(store, scan));
      byte[] key = lastKey.getBytes(StandardCharsets.UTF_8);
      out.writeInt(key.length);
      out.write(key);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.toByteArray());
  }

  /**
   * The last key a cursor names.
   *
   * @throws dev.backbone.errors.FatalBackboneException {@code BAD_CURSOR} for a token that is not a
   *     cursor, or is the cursor of another store or scan
   */
  static String decode(String token, String store, String scan) {
    if (token.length() > MAX_TOKEN_CHARS) {
      throw bad("it is longer than " + MAX_TOKEN_CHARS + " characters");
    }
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      throw bad("it is not base64url");
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(raw))) {
      if (in.readByte() != VERSION) {
        throw bad("its version is unknown");
      }
      byte[] binding = new byte[8];
      in.readFully(binding);
      if (!Arrays.equals(binding, binding(store, scan))) {
        throw bad(
            "it was issued for another store or another scan (other bounds or prefix); start the"
                + " scan again without a cursor, or pass the same bounds as the page it came from");
      }
      int length = in.readInt();
      if (length < 0 || length != in.available()) {
        throw bad("its key is cut short");
      }
      byte[] key = new byte[length];
      in.readFully(key);
      return new String(key, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw bad("it is cut short");
    }
  }

  private static byte[] binding(String store, String scan) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(store.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(scan.getBytes(StandardCharsets.UTF_8));
      return Arrays.copyOf(sha.digest(), 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static RuntimeException bad(String why) {
    return HttpErrors.fatal(
        HttpErrors.BAD_CURSOR, "The cursor is not valid for this scan: " + why + ".");
  }
}
