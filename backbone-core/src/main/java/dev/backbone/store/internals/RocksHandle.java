package dev.backbone.store.internals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteOptions;

/**
 * One open RocksDB of a Backbone store: the database, its two column families (data, {@link
 * StoreMeta}) and the native options they hold, closed together.
 */
final class RocksHandle implements AutoCloseable {
  final RocksDB db;
  final ColumnFamilyHandle data;
  final ColumnFamilyHandle meta;
  final WriteOptions writeOptions = new WriteOptions();
  final ReadOptions readOptions = new ReadOptions();
  private final List<ColumnFamilyHandle> handles;
  private final RocksTuning tuning;

  private RocksHandle(RocksDB db, List<ColumnFamilyHandle> handles, RocksTuning tuning) {
    this.db = db;
    this.handles = handles;
    this.data = handles.get(0);
    this.meta = handles.get(1);
    this.tuning = tuning;
  }

  /** Opens (or creates) the store {@code store}'s RocksDB at {@code dir}, tuned as Kafka's own. */
  static RocksHandle open(String store, Path dir, Map<String, Object> appConfigs) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new ProcessorStateException("cannot create the directory of store " + store, e);
    }
    RocksTuning tuning = new RocksTuning(store, appConfigs);
    List<ColumnFamilyDescriptor> descriptors =
        List.of(
            new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, tuning.dataOptions),
            new ColumnFamilyDescriptor(StoreMeta.CF_NAME, tuning.metaOptions));
    List<ColumnFamilyHandle> opened = new ArrayList<>();
    try {
      return new RocksHandle(
          RocksDB.open(tuning.dbOptions, dir.toString(), descriptors, opened), opened, tuning);
    } catch (RocksDBException e) {
      tuning.close();
      throw new ProcessorStateException(
          "cannot open RocksDB of store " + store + " at " + dir + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    handles.forEach(ColumnFamilyHandle::close);
    db.close();
    writeOptions.close();
    readOptions.close();
    tuning.close();
  }
}
