package dev.backbone.bench.bootstrap;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * An order-independent digest of a key-value state: the number of entries and the sum of one 64-bit
 * hash per entry (key and value). Two states with the same entries have the same digest whatever
 * the order they were written or read in; a missing, extra or changed entry changes it.
 */
record StateDigest(long entries, long hashSum) {
  static final StateDigest EMPTY = new StateDigest(0, 0);

  StateDigest plus(byte[] key, byte[] value) {
    return new StateDigest(entries + 1, hashSum + entryHash(key, value));
  }

  /** The digest of the default column family (where both stores keep their data) of a RocksDB. */
  static StateDigest ofRocksDb(Path dir) {
    RocksDB.loadLibrary();
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (Options options = new Options();
        DBOptions dbOptions = new DBOptions()) {
      List<ColumnFamilyDescriptor> descriptors =
          RocksDB.listColumnFamilies(options, dir.toString()).stream()
              .map(ColumnFamilyDescriptor::new)
              .toList();
      try (RocksDB db = RocksDB.openReadOnly(dbOptions, dir.toString(), descriptors, handles)) {
        int data = 0;
        for (int i = 0; i < descriptors.size(); i++) {
          if (Arrays.equals(descriptors.get(i).getName(), RocksDB.DEFAULT_COLUMN_FAMILY)) {
            data = i;
          }
        }
        StateDigest digest = EMPTY;
        try (RocksIterator it = db.newIterator(handles.get(data))) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            digest = digest.plus(it.key(), it.value());
          }
          it.status();
        }
        return digest;
      } finally {
        handles.forEach(ColumnFamilyHandle::close);
      }
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot read the RocksDB at " + dir + ": " + e, e);
    }
  }

  static long entryHash(byte[] key, byte[] value) {
    CRC32C crc = new CRC32C();
    crc.update(key);
    long k = crc.getValue();
    crc.reset();
    crc.update(value);
    return mix64((k << 32) ^ crc.getValue() ^ ((long) value.length << 17));
  }

  /** A 64-bit finalizer (the one of SplitMix64), so sums of hashes do not cancel out. */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  @Override
  public String toString() {
    return entries + " entries (hash sum " + Long.toHexString(hashSum) + ")";
  }
}
