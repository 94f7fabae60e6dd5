package dev.backbone.store.internals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.query.Position;

/** A {@link Position} as bytes, stored next to the offsets so both survive together. */
final class PositionCodec {
  private static final byte VERSION = 1;

  private PositionCodec() {}

  static byte[] encode(Position position) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeInt(position.getTopics().size());
      for (String topic : position.getTopics()) {
        Map<Integer, Long> partitions = position.getPartitionPositions(topic);
        out.writeUTF(topic);
        out.writeInt(partitions.size());
        for (Map.Entry<Integer, Long> e : partitions.entrySet()) {
          out.writeInt(e.getKey());
          out.writeLong(e.getValue());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static Position decode(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte version = in.readByte();
      if (version != VERSION) {
        throw new IllegalStateException("unknown position format " + version);
      }
      Map<String, Map<Integer, Long>> map = new HashMap<>();
      int topics = in.readInt();
      for (int t = 0; t < topics; t++) {
        String topic = in.readUTF();
        int partitions = in.readInt();
        Map<Integer, Long> offsets = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
          offsets.put(in.readInt(), in.readLong());
        }
        map.put(topic, offsets);
      }
      return Position.fromMap(map);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
