package dev.backbone.server.internals;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Keys in URL paths: strict percent-decoding of the raw path segment, and the matching encoding.
 *
 * <p>The HTTP framework's own decoding is lenient (it turns invalid UTF-8 into U+FFFD), so two
 * different byte strings could read the same key. Here a key is decoded from the raw segment
 * exactly once, by RFC 3986 rules ({@code +} is a plus, not a space), and anything that is not
 * well-formed percent-encoded UTF-8 is refused with {@code BAD_KEY}. {@link #encode} produces the
 * form a forwarded request uses, so {@code decode(encode(k)).equals(k)} for every valid key.
 */
public final class KeyCodec {
  /**
   * Longest key accepted by default, in UTF-8 bytes after decoding ({@code
   * backbone.http.max.key.bytes}).
   */
  public static final int MAX_KEY_BYTES = 1024;

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private KeyCodec() {}

  /**
   * Decodes one raw (still percent-encoded) path segment into a key.
   *
   * @throws dev.backbone.errors.FatalBackboneException {@code BAD_KEY} if the segment is empty,
   *     malformed, not UTF-8, or longer than {@link #MAX_KEY_BYTES} once decoded
   */
  public static String decode(String rawSegment) {
    return decode(rawSegment, MAX_KEY_BYTES);
  }

  /**
   * Decodes one raw path segment into a key of at most {@code maxKeyBytes} bytes of UTF-8.
   *
   * @throws dev.backbone.errors.FatalBackboneException {@code BAD_KEY} if the segment is empty,
   *     malformed, not UTF-8, or longer than {@code maxKeyBytes} once decoded
   */
  public static String decode(String rawSegment, int maxKeyBytes) {
    if (rawSegment == null || rawSegment.isEmpty()) {
      throw HttpErrors.fatal(HttpErrors.BAD_KEY, "The key is empty; put the key after /keys/.");
    }
    byte[] bytes = new byte[rawSegment.length() * 3];
    int length = 0;
    int i = 0;
    while (i < rawSegment.length()) {
      char c = rawSegment.charAt(i);
      if (c == '%') {
        int high = i + 1 < rawSegment.length() ? Character.digit(rawSegment.charAt(i + 1), 16) : -1;
        int low = i + 2 < rawSegment.length() ? Character.digit(rawSegment.charAt(i + 2), 16) : -1;
        if (high < 0 || low < 0) {
          throw HttpErrors.fatal(
              HttpErrors.BAD_KEY,
              "The key has an invalid percent-encoding at position "
                  + i
                  + " ('"
                  + abbreviate(rawSegment.substring(i, Math.min(i + 3, rawSegment.length())))
                  + "'); write a byte as '%' and two hex digits.");
        }
        bytes[length++] = (byte) ((high << 4) | low);
        i += 3;
      } else if (c < 0x80) {
        bytes[length++] = (byte) c;
        i++;
      } else {
        // A server may hand over raw non-ASCII characters; take them as the UTF-8 they arrived as.
        int end = i + Character.charCount(rawSegment.codePointAt(i));
        byte[] utf8 = rawSegment.substring(i, end).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(utf8, 0, bytes, length, utf8.length);
        length += utf8.length;
        i = end;
      }
      if (length > maxKeyBytes) {
        throw tooLong(rawSegment, maxKeyBytes);
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes, 0, length))
          .toString();
    } catch (CharacterCodingException e) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_KEY,
          "The key '"
              + abbreviate(rawSegment)
              + "' is not valid UTF-8 once percent-decoded; encode keys as UTF-8 bytes.");
    }
  }

  /**
   * Checks a key that did not come in a path segment (a batch get's body): not empty, valid
   * Unicode, at most {@link #MAX_KEY_BYTES} bytes of UTF-8.
   *
   * @return the key
   * @throws dev.backbone.errors.FatalBackboneException {@code BAD_KEY} otherwise
   */
  public static String checkLength(String key) {
    return checkLength(key, MAX_KEY_BYTES);
  }

  /** As {@link #checkLength(String)}, with at most {@code maxKeyBytes} bytes of UTF-8. */
  public static String checkLength(String key, int maxKeyBytes) {
    if (key.isEmpty()) {
      throw HttpErrors.fatal(HttpErrors.BAD_KEY, "A key is empty; keys have at least one byte.");
    }
    int bytes;
    try {
      bytes = utf8(key).remaining();
    } catch (CharacterCodingException e) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_KEY, "The key '" + abbreviate(key) + "' is not a valid Unicode string.");
    }
    if (bytes > maxKeyBytes) {
      throw tooLong(key, maxKeyBytes);
    }
    return key;
  }

  /**
   * Percent-encodes a key as one path segment: every byte of its UTF-8 form except the RFC 3986
   * unreserved characters.
   *
   * @throws IllegalArgumentException if the key is not valid UTF-16 (a lone surrogate)
   */
  public static String encode(String key) {
    ByteBuffer utf8;
    try {
      utf8 = utf8(key);
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("key is not a valid Unicode string", e);
    }
    StringBuilder out = new StringBuilder(utf8.remaining() * 3);
    while (utf8.hasRemaining()) {
      int b = utf8.get() & 0xFF;
      if (isUnreserved(b)) {
        out.append((char) b);
      } else {
        out.append('%').append(HEX[b >> 4]).append(HEX[b & 0xF]);
      }
    }
    return out.toString();
  }

  /** The key's UTF-8 bytes; refuses a string that is not valid Unicode (a lone surrogate). */
  private static ByteBuffer utf8(String key) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newEncoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .encode(CharBuffer.wrap(key));
  }

  private static boolean isUnreserved(int b) {
    return (b >= 'A' && b <= 'Z')
        || (b >= 'a' && b <= 'z')
        || (b >= '0' && b <= '9')
        || b == '-'
        || b == '.'
        || b == '_'
        || b == '~';
  }

  private static RuntimeException tooLong(String rawSegment, int maxKeyBytes) {
    return HttpErrors.fatal(
        HttpErrors.BAD_KEY,
        "The key '"
            + abbreviate(rawSegment)
            + "' is longer than "
            + maxKeyBytes
            + " bytes; keys here are at most "
            + maxKeyBytes
            + " bytes of UTF-8 (backbone.http.max.key.bytes).");
  }

  /** Keeps error messages short even for a hostile 8 KiB key. */
  static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 61) + "...";
  }
}
