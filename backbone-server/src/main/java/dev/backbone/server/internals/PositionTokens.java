package dev.backbone.server.internals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.streams.query.Position;

/**
 * The opaque position token of a read: a Kafka Streams {@link Position} (topic, partition, offset
 * triples the store has seen) as a URL-safe string, so a client can hand it back later (read your
 * writes) without knowing its structure.
 *
 * <p>Layout before base64url (no padding): a version byte, the topic count, then per topic its
 * name, its partition count and (partition, offset) pairs. Topics and partitions are written in
 * sorted order so that equal positions give equal tokens. Decoding checks every count against the
 * bytes that are left, so a forged token can neither allocate much nor be read half-way.
 */
public final class PositionTokens {
  private static final byte VERSION = 1;
  private static final int MAX_TOKEN_CHARS = 64 * 1024;

  private PositionTokens() {}

  /** The token of a position. */
  public static String encode(Position position) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      TreeSet<String> topics = new TreeSet<>(position.getTopics());
      out.writeInt(topics.size());
      for (String topic : topics) {
        out.writeUTF(topic);
        Map<Integer, Long> partitions = new TreeMap<>(position.getPartitionPositions(topic));
        out.writeInt(partitions.size());
        for (Map.Entry<Integer, Long> e : partitions.entrySet()) {
          out.writeInt(e.getKey());
          out.writeLong(e.getValue());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory cannot fail", e);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.toByteArray());
  }

  /**
   * The position of a token.
   *
   * @throws dev.backbone.errors.FatalBackboneException {@code BAD_POSITION} if the token was not
   *     made by {@link #encode}
   */
  public static Position decode(String token) {
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
      throw bad(token, "it is empty or longer than " + MAX_TOKEN_CHARS + " characters");
    }
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      throw bad(token, "it is not base64url");
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte version = in.readByte();
      if (version != VERSION) {
        throw bad(token, "its version " + version + " is unknown");
      }
      int topicCount = count(in, token, 2);
      Map<String, Map<Integer, Long>> map = new HashMap<>();
      for (int t = 0; t < topicCount; t++) {
        String topic = in.readUTF();
        int partitionCount = count(in, token, 12);
        Map<Integer, Long> partitions = new HashMap<>();
        for (int p = 0; p < partitionCount; p++) {
          partitions.put(in.readInt(), in.readLong());
        }
        if (partitions.size() != partitionCount || map.put(topic, partitions) != null) {
          throw bad(token, "it repeats a topic or partition");
        }
      }
      if (in.available() > 0) {
        throw bad(token, "it has trailing bytes");
      }
      return Position.fromMap(map);
    } catch (EOFException e) {
      throw bad(token, "it is truncated");
    } catch (IOException e) {
      throw bad(token, "it cannot be read");
    }
  }

  private static int count(DataInputStream in, String token, int minBytesEach) throws IOException {
    int count = in.readInt();
    if (count < 0 || (long) count * minBytesEach > in.available()) {
      throw bad(token, "it declares " + count + " entries but is too short for them");
    }
    return count;
  }

  private static RuntimeException bad(String token, String why) {
    String shown = token == null ? "null" : KeyCodec.abbreviate(token);
    return HttpErrors.fatal(
        HttpErrors.BAD_POSITION,
        "Position token '"
            + shown
            + "' is invalid: "
            + why
            + ". Pass back a 'position' exactly as a Backbone answer returned it.");
  }
}
