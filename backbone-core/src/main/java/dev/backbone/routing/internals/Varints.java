package dev.backbone.routing.internals;

import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Unsigned LEB128 varints (7 bits per byte, low bits first) and the few composite values the
 * routing encoding is built from. Negative numbers are refused: every encoded number is a count, an
 * index, a generation or a timestamp.
 */
public final class Varints {
  private Varints() {}

  /** Appends {@code value} (at least 0) as a varint. */
  public static void writeLong(ByteArrayOutputStream out, long value) {
    if (value < 0) {
      throw new IllegalArgumentException("varints encode non-negative numbers, not " + value);
    }
    long v = value;
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  /** Appends {@code value} (at least 0) as a varint. */
  public static void writeInt(ByteArrayOutputStream out, int value) {
    writeLong(out, value);
  }

  /** Appends a UTF-8 string prefixed by its byte length. */
  public static void writeString(ByteArrayOutputStream out, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    writeInt(out, bytes.length);
    out.write(bytes, 0, bytes.length);
  }

  /** Appends a UUID as its 16 raw bytes, most significant first. */
  public static void writeUuid(ByteArrayOutputStream out, UUID value) {
    long msb = value.getMostSignificantBits();
    long lsb = value.getLeastSignificantBits();
    for (int i = 7; i >= 0; i--) {
      out.write((int) (msb >>> (8 * i)));
    }
    for (int i = 7; i >= 0; i--) {
      out.write((int) (lsb >>> (8 * i)));
    }
  }

  /**
   * Reads a varint.
   *
   * @throws IllegalArgumentException if the bytes end early or the number is longer than 64 bits
   */
  public static long readLong(ByteBuffer in) {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = get(in);
      result |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        if (result < 0) {
          throw new IllegalArgumentException("varint out of range");
        }
        return result;
      }
    }
    throw new IllegalArgumentException("varint longer than 64 bits");
  }

  /**
   * Reads a varint that must fit an int and be at most {@code max}.
   *
   * @throws IllegalArgumentException if it does not
   */
  public static int readInt(ByteBuffer in, int max) {
    long v = readLong(in);
    if (v > max) {
      throw new IllegalArgumentException("value " + v + " exceeds its bound " + max);
    }
    return (int) v;
  }

  /** Reads a length-prefixed UTF-8 string. */
  public static String readString(ByteBuffer in) {
    int length = readInt(in, in.remaining());
    byte[] bytes = new byte[length];
    in.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** Reads 16 raw bytes as a UUID. */
  public static UUID readUuid(ByteBuffer in) {
    if (in.remaining() < 16) {
      throw new IllegalArgumentException("a UUID needs 16 bytes, " + in.remaining() + " left");
    }
    return new UUID(in.getLong(), in.getLong());
  }

  private static byte get(ByteBuffer in) {
    try {
      return in.get();
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("the encoding ends in the middle of a number", e);
    }
  }
}
