package dev.backbone.store.internals;

import dev.backbone.errors.FatalBackboneException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.query.Position;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The {@code backbone-meta} column family of a Backbone store: what its data corresponds to.
 *
 * <p>It holds, per changelog partition, the offset of the last changelog record the data contains
 * ({@code offset/<topic>/<partition>}), the query position of the data, the time the data was last
 * known current with its changelog ({@code data-as-of}, see {@link #addDataAsOf}), the format
 * version, and the <em>dirty</em> marker: the data is not a committed pair and must be rebuilt.
 * Every change to it goes into the same {@link WriteBatch} as the data it describes; the readers
 * here read an open store, a checkpoint or a closed store's directory alike.
 */
final class StoreMeta {
  static final byte[] CF_NAME = "backbone-meta".getBytes(StandardCharsets.UTF_8);

  private static final byte[] OFFSET_PREFIX = "offset/".getBytes(StandardCharsets.UTF_8);
  private static final byte[] POSITION_KEY = "position".getBytes(StandardCharsets.UTF_8);
  private static final byte[] DIRTY_KEY = "dirty".getBytes(StandardCharsets.UTF_8);
  private static final byte[] FORMAT_KEY = "format".getBytes(StandardCharsets.UTF_8);
  private static final byte[] DATA_AS_OF_KEY = "data-as-of".getBytes(StandardCharsets.UTF_8);
  private static final byte[] FORMAT_V1 = {1};
  private static final byte[] MARKER = {1};

  private StoreMeta() {}

  /**
   * Writes the format of a new store, or checks that of an existing one.
   *
   * @throws FatalBackboneException {@code STORE_FORMAT_UNSUPPORTED} for an unknown format
   */
  static void checkFormat(
      RocksDB db, ColumnFamilyHandle meta, WriteOptions options, String store, Path dir)
      throws RocksDBException {
    byte[] format = db.get(meta, FORMAT_KEY);
    if (format == null) {
      db.put(meta, options, FORMAT_KEY, FORMAT_V1);
    } else if (format.length != 1 || format[0] != FORMAT_V1[0]) {
      throw new FatalBackboneException(
          "STORE_FORMAT_UNSUPPORTED",
          "store " + store + " at " + dir + " has an unknown format; upgrade Backbone");
    }
  }

  static boolean isDirty(RocksDB db, ColumnFamilyHandle meta) throws RocksDBException {
    return db.get(meta, DIRTY_KEY) != null;
  }

  static Position position(RocksDB db, ColumnFamilyHandle meta) throws RocksDBException {
    byte[] stored = db.get(meta, POSITION_KEY);
    Position position = Position.emptyPosition();
    if (stored != null) {
      position.merge(PositionCodec.decode(stored));
    }
    return position;
  }

  /** The stored offset of one changelog partition; null if none. */
  static Long offset(RocksDB db, ColumnFamilyHandle meta, TopicPartition tp)
      throws RocksDBException {
    byte[] value = db.get(meta, offsetKey(tp));
    return value == null ? null : ByteBuffer.wrap(value).getLong();
  }

  /** Every stored changelog offset. */
  static Map<TopicPartition, Long> offsets(RocksDB db, ColumnFamilyHandle meta) {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    try (RocksIterator it = db.newIterator(meta)) {
      for (it.seek(OFFSET_PREFIX); it.isValid(); it.next()) {
        byte[] key = it.key();
        if (!startsWith(key, OFFSET_PREFIX)) {
          break;
        }
        String tp =
            new String(
                key,
                OFFSET_PREFIX.length,
                key.length - OFFSET_PREFIX.length,
                StandardCharsets.UTF_8);
        int slash = tp.lastIndexOf('/');
        offsets.put(
            new TopicPartition(tp.substring(0, slash), Integer.parseInt(tp.substring(slash + 1))),
            ByteBuffer.wrap(it.value()).getLong());
      }
    }
    return offsets;
  }

  /** When the data was last known current with its changelog offsets; empty if never. */
  static Optional<Instant> dataAsOf(RocksDB db, ColumnFamilyHandle meta) throws RocksDBException {
    byte[] value = db.get(meta, DATA_AS_OF_KEY);
    return value == null
        ? Optional.empty()
        : Optional.of(Instant.ofEpochMilli(ByteBuffer.wrap(value).getLong()));
  }

  static void addOffsets(WriteBatch batch, ColumnFamilyHandle meta, Map<TopicPartition, Long> o)
      throws RocksDBException {
    for (Map.Entry<TopicPartition, Long> e : o.entrySet()) {
      if (e.getValue() == null) {
        batch.delete(meta, offsetKey(e.getKey()));
      } else {
        batch.put(meta, offsetKey(e.getKey()), longBytes(e.getValue()));
      }
    }
  }

  static void addPosition(WriteBatch batch, ColumnFamilyHandle meta, Position position)
      throws RocksDBException {
    batch.put(meta, POSITION_KEY, PositionCodec.encode(position));
  }

  /**
   * Records that the data is current with its offsets as of {@code time}: no changelog record after
   * the stored offsets was written before then. True at the commit of an active's processing writes
   * under exactly-once: the task is the only writer of its changelog, and its next records belong
   * to later transactions. Snapshot installs use it to refuse a snapshot whose tail may have lost
   * tombstones to compaction.
   */
  static void addDataAsOf(WriteBatch batch, ColumnFamilyHandle meta, Instant time)
      throws RocksDBException {
    batch.put(meta, DATA_AS_OF_KEY, longBytes(time.toEpochMilli()));
  }

  static void addDirty(WriteBatch batch, ColumnFamilyHandle meta) throws RocksDBException {
    batch.put(meta, DIRTY_KEY, MARKER);
  }

  private static byte[] offsetKey(TopicPartition tp) {
    byte[] suffix = (tp.topic() + "/" + tp.partition()).getBytes(StandardCharsets.UTF_8);
    byte[] key = new byte[OFFSET_PREFIX.length + suffix.length];
    System.arraycopy(OFFSET_PREFIX, 0, key, 0, OFFSET_PREFIX.length);
    System.arraycopy(suffix, 0, key, OFFSET_PREFIX.length, suffix.length);
    return key;
  }

  private static byte[] longBytes(long value) {
    return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
  }

  private static boolean startsWith(byte[] key, byte[] prefix) {
    if (key.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (key[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
