package dev.backbone.store.internals;

import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactionStyle;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;

/**
 * RocksDB options as Kafka Streams sets them for its own key-value stores (50 MB LRU block cache, 4
 * KB blocks, bloom filter, 16 MB write buffers x 3, no compression, universal compaction,
 * parallelism = cores), then the user's {@code rocksdb.config.setter}, applied to one {@link
 * Options} object which is then split into the {@link DBOptions} and {@link ColumnFamilyOptions}
 * that opening with several column families needs. Unlike Kafka Streams, the write-ahead log stays
 * on: it is written once per commit (one batch), and it is what lets a killed process reopen at its
 * last commit.
 */
final class RocksTuning implements AutoCloseable {
  private static final long BLOCK_CACHE_BYTES = 50L * 1024 * 1024;
  private static final long BLOCK_SIZE_BYTES = 4096L;
  private static final long WRITE_BUFFER_BYTES = 16L * 1024 * 1024;
  private static final int MAX_WRITE_BUFFERS = 3;
  private static final long META_WRITE_BUFFER_BYTES = 1024L * 1024;

  final Options options;
  final DBOptions dbOptions;
  final ColumnFamilyOptions dataOptions;
  final ColumnFamilyOptions metaOptions;
  private final Cache cache;
  private final BloomFilter filter;
  private final RocksDBConfigSetter setter;
  private final String storeName;

  RocksTuning(String storeName, Map<String, Object> appConfigs) {
    this.storeName = storeName;
    options = new Options();
    cache = new LRUCache(BLOCK_CACHE_BYTES);
    filter = new BloomFilter();
    BlockBasedTableConfig table = new BlockBasedTableConfig();
    table.setBlockCache(cache);
    table.setBlockSize(BLOCK_SIZE_BYTES);
    table.setFilterPolicy(filter);
    options.setTableFormatConfig(table);
    options.setOptimizeFiltersForHits(true);
    options.setWriteBufferSize(WRITE_BUFFER_BYTES);
    options.setCompressionType(CompressionType.NO_COMPRESSION);
    options.setCompactionStyle(CompactionStyle.UNIVERSAL);
    options.setMaxWriteBufferNumber(MAX_WRITE_BUFFERS);
    options.setCreateIfMissing(true);
    options.setCreateMissingColumnFamilies(true);
    options.setErrorIfExists(false);
    options.setInfoLogLevel(InfoLogLevel.ERROR_LEVEL);
    options.setIncreaseParallelism(Math.max(Runtime.getRuntime().availableProcessors(), 2));
    // Data and offsets live in two column families: flush them together, so a checkpoint or a
    // restart never sees one without the other.
    options.setAtomicFlush(true);

    setter = configSetter(appConfigs);
    if (setter != null) {
      setter.setConfig(storeName, options, appConfigs);
    }
    options.setCreateIfMissing(true);
    options.setCreateMissingColumnFamilies(true);
    options.setAtomicFlush(true);
    dbOptions = new DBOptions(options);
    dataOptions = new ColumnFamilyOptions(options);
    metaOptions = new ColumnFamilyOptions();
    metaOptions.setWriteBufferSize(META_WRITE_BUFFER_BYTES);
    metaOptions.setCompressionType(CompressionType.NO_COMPRESSION);
  }

  private static RocksDBConfigSetter configSetter(Map<String, Object> appConfigs) {
    Object value = appConfigs.get(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG);
    if (value == null) {
      return null;
    }
    try {
      Class<?> type = value instanceof Class<?> c ? c : Class.forName(value.toString().trim());
      return (RocksDBConfigSetter) Utils.newInstance(type);
    } catch (ClassNotFoundException | ClassCastException e) {
      throw new ConfigException(
          StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG,
          value,
          "not a loadable RocksDBConfigSetter: " + e.getMessage());
    }
  }

  @Override
  public void close() {
    if (setter != null) {
      setter.close(storeName, options);
    }
    metaOptions.close();
    dataOptions.close();
    dbOptions.close();
    options.close();
    filter.close();
    cache.close();
  }
}
