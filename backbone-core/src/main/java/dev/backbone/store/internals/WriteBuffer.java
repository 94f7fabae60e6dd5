package dev.backbone.store.internals;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * A store's writes since its last commit: an in-memory map sorted as RocksDB's bytewise comparator
 * sorts keys ({@link Bytes} compares unsigned), a delete kept as {@link MergedIterator#TOMBSTONE}.
 * At commit it becomes, in key order, the data part of one RocksDB {@link WriteBatch}.
 *
 * <p>Not thread-safe: the store guards it with its batch lock.
 */
final class WriteBuffer {
  /**
   * Heap per entry beyond its key and value bytes, counted in {@link #bytes}: a TreeMap entry (40 B
   * with compressed oops), the key's {@code Bytes} wrapper (24 B) and two array headers (16 B
   * each).
   */
  static final int ENTRY_OVERHEAD = 96;

  private final TreeMap<Bytes, byte[]> entries = new TreeMap<>();
  private long bytes;

  /** Records a write; {@code value} null is a delete. Copies both, as RocksDB would. */
  void put(Bytes key, byte[] value) {
    byte[] k = key.get().clone();
    byte[] stored = value == null ? MergedIterator.TOMBSTONE : value.clone();
    byte[] replaced = entries.put(Bytes.wrap(k), stored);
    // A key written again between commits replaces its entry: only the value's size changes.
    bytes +=
        replaced == null
            ? k.length + stored.length + ENTRY_OVERHEAD
            : stored.length - replaced.length;
  }

  /**
   * The buffered value of a key: null if the buffer has no write of it, {@link
   * MergedIterator#TOMBSTONE} if it deletes it, otherwise the value itself (not a copy).
   */
  byte[] lookup(Bytes key) {
    return entries.isEmpty() ? null : entries.get(key);
  }

  /** Copies the entries within {@code range} into {@code into}, values copied, tombstones kept. */
  void copyRange(KeyRange range, NavigableMap<Bytes, byte[]> into) {
    if (range.isEmpty() || entries.isEmpty()) {
      return;
    }
    NavigableMap<Bytes, byte[]> from =
        range.lower() == null ? entries : entries.tailMap(range.lower(), true);
    for (Map.Entry<Bytes, byte[]> e : from.entrySet()) {
      if (!range.belowUpper(e.getKey())) {
        break;
      }
      byte[] value = e.getValue();
      into.put(e.getKey(), value == MergedIterator.TOMBSTONE ? value : value.clone());
    }
  }

  /** Adds every entry, in key order, to {@code batch} against column family {@code data}. */
  void addTo(WriteBatch batch, ColumnFamilyHandle data) throws RocksDBException {
    for (Map.Entry<Bytes, byte[]> e : entries.entrySet()) {
      byte[] value = e.getValue();
      if (value == MergedIterator.TOMBSTONE) {
        batch.delete(data, e.getKey().get());
      } else {
        batch.put(data, e.getKey().get(), value);
      }
    }
  }

  void clear() {
    entries.clear();
    bytes = 0;
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  /** Entries, each key once. */
  int size() {
    return entries.size();
  }

  /** Approximate heap bytes held. */
  long bytes() {
    return bytes;
  }
}
