package dev.backbone.store.internals;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.store.BackboneClientSupplier;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotManifest.ChangelogOffset;
import dev.backbone.store.SnapshotStore;
import dev.backbone.store.SnapshotStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.processor.BatchingStateRestoreCallback;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.RangeQuery;
import org.apache.kafka.streams.query.ResultOrder;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshot store: a RocksDB key-value store that manages its own changelog offsets (KIP-1035)
 * and holds only committed data.
 *
 * <h2>The invariant</h2>
 *
 * RocksDB holds (data, offsets) pairs that were written together by one atomic {@code
 * db.write(batch)}: the offset of every changelog partition lives in the {@code backbone-meta}
 * column family, in the same write batch as the data it belongs to. So a RocksDB checkpoint, a
 * restart after {@code kill -9} (the write-ahead log is on; a killed process loses nothing the OS
 * has) or a snapshot install always yields data and the offset it corresponds to.
 *
 * <p>Writes between commits go to the <em>batch</em>: an in-memory sorted map ({@link #pending},
 * keys copied and ordered as RocksDB's bytewise comparator orders them, deletes as tombstones);
 * reads see it ({@code get} looks in it before RocksDB, iterators merge the entries of their range
 * in). {@link #commit(Map)} turns it, in key order, into one RocksDB {@link WriteBatch} together
 * with the offsets and the position and writes that in one atomic write. It is not a RocksDB {@code
 * WriteBatchWithIndex}: that inserted every put into a native skiplist and then, at commit, again
 * into the memtable in arrival order, one JNI call per put; the map costs no JNI per put, and the
 * sorted commit inserts into the memtable in key order (measured by {@code StoreBenchmark}). {@link
 * #close()} drops what was not committed, which is what a dirty close needs and a clean close never
 * has (Kafka Streams commits first).
 *
 * <h2>What holds in each mode</h2>
 *
 * <ul>
 *   <li><b>Restoration</b> (active restore, standbys): changelog records are committed data, so
 *       they go straight to RocksDB, batch by batch. The store may then be ahead of its stored
 *       offset by records of the changelog itself; replaying from the offset rewrites them
 *       identically, so any checkpoint still restores to the exact state.
 *   <li><b>at_least_once</b>: when the batch passes {@code backbone.store.max.uncommitted.bytes} it
 *       is written early, without an offset; data may then be ahead of the offset, which
 *       at-least-once allows (a crash reprocesses from the committed input offsets).
 *   <li><b>exactly_once_v2</b>: processing writes are never written before their transaction
 *       commits: they may belong to a transaction that aborts. Kafka Streams 4.3 calls {@code
 *       commit(Map)} for an EOS task only at checkpoints (suspend, close, revocation), so the store
 *       learns each transaction's outcome from the thread's producer instead ({@link
 *       BackboneClientSupplier} wraps it in a {@link TransactionReportingProducer}): every store
 *       enlists in the open transaction of the thread that writes it ({@link
 *       StreamThreadTransactions}); when {@code commitTransaction()} returns, each applies its
 *       batch with the offset of the last record the transaction wrote to its changelog ({@link
 *       #transactionCommitted}); on abort or a failed commit it drops the batch ({@link
 *       #transactionAborted}), keeping its last committed (data, offset). So the batch holds at
 *       most one commit interval. The size bound stays as a safety valve: past it the store writes
 *       the batch and marks itself <em>dirty</em> in the same write; a dirty store reports no
 *       committed offset (after a crash Kafka Streams wipes and restores it, as it does a stock
 *       store under EOS) and {@link #snapshot} refuses it; the next commit makes it clean. Without
 *       the client supplier only Kafka Streams' checkpoints commit, and the bound is reached
 *       sooner; the store warns once.
 * </ul>
 *
 * <h2>Threads</h2>
 *
 * The stream (or state-updater) thread writes and commits; interactive queries and snapshots come
 * from other threads. The batch is guarded by {@link #batchLock} (a {@link TreeMap} is not
 * thread-safe); iterators copy the batch entries in their range when created and read RocksDB
 * through its implicit snapshot, so a later write never moves them. Open, close, snapshot and
 * install are serialised by {@link #lifecycle}.
 */
public class BackboneKeyValueStore
    implements KeyValueStore<Bytes, byte[]>,
        SnapshotStore,
        StreamThreadTransactions.Participant,
        AutoCloseable {
  /** Setting: bytes of uncommitted writes after which the batch is written early. */
  public static final String MAX_UNCOMMITTED_BYTES_CONFIG = "backbone.store.max.uncommitted.bytes";

  /** Default of {@link #MAX_UNCOMMITTED_BYTES_CONFIG}: 64 MiB. */
  public static final long DEFAULT_MAX_UNCOMMITTED_BYTES = 64L * 1024 * 1024;

  /** The directory under the task directory that holds the stores' own snapshots. */
  public static final String SNAPSHOTS_DIR = "backbone-snapshots";

  static final String DB_DIR = "backbone";
  static final byte[] META_CF = "backbone-meta".getBytes(StandardCharsets.UTF_8);
  private static final byte[] OFFSET_PREFIX = "offset/".getBytes(StandardCharsets.UTF_8);
  private static final byte[] POSITION_KEY = "position".getBytes(StandardCharsets.UTF_8);
  private static final byte[] DIRTY_KEY = "dirty".getBytes(StandardCharsets.UTF_8);
  private static final byte[] FORMAT_KEY = "format".getBytes(StandardCharsets.UTF_8);
  private static final byte[] FORMAT_V1 = {1};
  private static final String CHANGELOG_SUFFIX = "-changelog";

  /**
   * Heap per uncommitted entry beyond its key and value bytes, counted towards the size bound: a
   * TreeMap entry (40 B with compressed oops), the key's {@code Bytes} wrapper (24 B) and two array
   * headers (16 B each).
   */
  private static final int ENTRY_OVERHEAD = 96;

  private static final Logger LOG = LoggerFactory.getLogger(BackboneKeyValueStore.class);
  private static final AtomicBoolean WARNED_NO_CLIENT_SUPPLIER = new AtomicBoolean();

  static {
    RocksDB.loadLibrary();
  }

  private final String name;
  private final ReentrantLock batchLock = new ReentrantLock();
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private final Set<MergedIterator> openIterators = ConcurrentHashMap.newKeySet();
  private final SnapshotFiles snapshotFiles = new SnapshotFiles();

  private StateStoreContext context;
  private String applicationId;
  private TaskId taskId;
  private boolean eos;
  private long maxUncommittedBytes = DEFAULT_MAX_UNCOMMITTED_BYTES;
  private Path dbDir;
  private Path taskDir;
  private Map<String, Object> appConfigs = Map.of();

  private RocksTuning tuning;
  private RocksDB db;
  private ColumnFamilyHandle dataCf;
  private ColumnFamilyHandle metaCf;
  private List<ColumnFamilyHandle> handles = List.of();
  private WriteOptions writeOptions;
  private ReadOptions readOptions;

  /**
   * The uncommitted writes, sorted as RocksDB sorts keys ({@link MergedIterator#TOMBSTONE} marks a
   * delete); written as one {@link WriteBatch}, in key order, at commit. Guarded by the batch lock.
   */
  private final TreeMap<Bytes, byte[]> pending = new TreeMap<>();

  private long batchBytes;
  private boolean dirty;

  /** Null when the context has no metrics registry, and after close. */
  private volatile StoreMetrics metrics;

  private boolean warnedDirty;
  private volatile Position position = Position.emptyPosition();
  private Position committedPosition = Position.emptyPosition();

  /** The changelog partition whose offset a transaction commit reports; null if unknown. */
  private TopicPartition changelogPartition;

  /** The thread whose open transaction this store is enlisted in; guarded by the batch lock. */
  private Thread enlistedOn;

  private volatile boolean open;

  /** A store named {@code name}; nothing opens before {@link #init}. */
  public BackboneKeyValueStore(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a store name is required");
    }
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String applicationId() {
    return applicationId;
  }

  @Override
  public TaskId taskId() {
    return taskId;
  }

  @Override
  public boolean persistent() {
    return true;
  }

  @Override
  @SuppressWarnings("deprecation") // deprecated in 4.3 on its way to becoming the only mode
  public boolean managesOffsets() {
    return true;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void init(StateStoreContext context, StateStore root) {
    this.context = context;
    this.applicationId = context.applicationId();
    this.taskId = context.taskId();
    this.appConfigs = context.appConfigs();
    this.eos =
        StreamsConfig.EXACTLY_ONCE_V2.equals(
            String.valueOf(appConfigs.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)));
    Object bound = appConfigs.get(MAX_UNCOMMITTED_BYTES_CONFIG);
    if (bound != null) {
      maxUncommittedBytes = Long.parseLong(bound.toString().trim());
    }
    this.changelogPartition =
        new TopicPartition(changelogTopic(applicationId, name), taskId.partition());
    if (eos && !reportsTransactions(appConfigs)) {
      warnNoClientSupplier();
    }
    this.taskDir = context.stateDir().toPath();
    this.dbDir = taskDir.resolve(DB_DIR).resolve(name);
    lifecycle.writeLock().lock();
    try {
      openDb();
    } finally {
      lifecycle.writeLock().unlock();
    }
    context.register(root, (BatchingStateRestoreCallback) this::restoreAll);
    metrics = StoreMetrics.create(context.metrics(), taskId, name);
    SnapshotStores.register(this);
  }

  /** Opens RocksDB at {@link #dbDir}; the caller holds the lifecycle write lock. */
  private void openDb() {
    try {
      Files.createDirectories(dbDir);
    } catch (IOException e) {
      throw new ProcessorStateException("cannot create the directory of store " + name, e);
    }
    snapshotFiles.clearCache();
    tuning = new RocksTuning(name, appConfigs);
    List<ColumnFamilyDescriptor> descriptors =
        List.of(
            new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, tuning.dataOptions),
            new ColumnFamilyDescriptor(META_CF, tuning.metaOptions));
    List<ColumnFamilyHandle> opened = new ArrayList<>();
    try {
      db = RocksDB.open(tuning.dbOptions, dbDir.toString(), descriptors, opened);
    } catch (RocksDBException e) {
      tuning.close();
      throw new ProcessorStateException(
          "cannot open RocksDB of store " + name + " at " + dbDir + ": " + e.getMessage(), e);
    }
    handles = opened;
    dataCf = opened.get(0);
    metaCf = opened.get(1);
    writeOptions = new WriteOptions();
    readOptions = new ReadOptions();
    pending.clear();
    batchBytes = 0;
    try {
      byte[] format = db.get(metaCf, FORMAT_KEY);
      if (format == null) {
        db.put(metaCf, writeOptions, FORMAT_KEY, FORMAT_V1);
      } else if (format.length != 1 || format[0] != FORMAT_V1[0]) {
        closeDb();
        throw new FatalBackboneException(
            "STORE_FORMAT_UNSUPPORTED",
            "store " + name + " at " + dbDir + " has an unknown format; upgrade Backbone");
      }
      dirty = db.get(metaCf, DIRTY_KEY) != null;
      byte[] storedPosition = db.get(metaCf, POSITION_KEY);
      Position reopened = Position.emptyPosition();
      if (storedPosition != null) {
        reopened.merge(PositionCodec.decode(storedPosition));
      }
      position = reopened;
      committedPosition = reopened.copy();
    } catch (RocksDBException e) {
      closeDb();
      throw new ProcessorStateException("cannot read the metadata of store " + name, e);
    }
    open = true;
  }

  // ---------------------------------------------------------------- writes

  @Override
  public void put(Bytes key, byte[] value) {
    requireKey(key);
    batchLock.lock();
    try {
      ensureOpen();
      putInBatch(key, value);
    } finally {
      batchLock.unlock();
    }
    trackPosition();
    maybeWriteEarly();
  }

  @Override
  public byte[] putIfAbsent(Bytes key, byte[] value) {
    requireKey(key);
    byte[] old;
    batchLock.lock();
    try {
      ensureOpen();
      old = getLocked(key);
      if (old == null) {
        putInBatch(key, value);
      }
    } finally {
      batchLock.unlock();
    }
    if (old == null) {
      trackPosition();
      maybeWriteEarly();
    }
    return old;
  }

  @Override
  public void putAll(List<KeyValue<Bytes, byte[]>> entries) {
    for (KeyValue<Bytes, byte[]> e : entries) {
      requireKey(e.key);
    }
    batchLock.lock();
    try {
      ensureOpen();
      for (KeyValue<Bytes, byte[]> e : entries) {
        putInBatch(e.key, e.value);
      }
    } finally {
      batchLock.unlock();
    }
    trackPosition();
    maybeWriteEarly();
  }

  @Override
  public byte[] delete(Bytes key) {
    requireKey(key);
    byte[] old;
    batchLock.lock();
    try {
      ensureOpen();
      old = getLocked(key);
      putInBatch(key, null);
    } finally {
      batchLock.unlock();
    }
    trackPosition();
    maybeWriteEarly();
    return old;
  }

  private void putInBatch(Bytes key, byte[] value) {
    // Copies, as RocksDB would: the caller may reuse its arrays.
    byte[] k = key.get().clone();
    byte[] stored = value == null ? MergedIterator.TOMBSTONE : value.clone();
    byte[] replaced = pending.put(Bytes.wrap(k), stored);
    // A key written again between commits replaces its entry: only the value's size changes.
    batchBytes +=
        replaced == null
            ? k.length + stored.length + ENTRY_OVERHEAD
            : stored.length - replaced.length;
    Thread writer = Thread.currentThread();
    if (eos && enlistedOn != writer) {
      StreamThreadTransactions.enlist(this);
      enlistedOn = writer;
    }
  }

  private void trackPosition() {
    if (context == null) {
      return;
    }
    RecordMetadata meta = context.recordMetadata().orElse(null);
    if (meta != null && meta.topic() != null) {
      position.withComponent(meta.topic(), meta.partition(), meta.offset());
    }
  }

  /** Writes the batch early once it passes the bound; see the class comment for each mode. */
  private void maybeWriteEarly() {
    if (batchBytes <= maxUncommittedBytes) {
      return;
    }
    batchLock.lock();
    try {
      if (batchBytes <= maxUncommittedBytes) {
        return;
      }
      boolean markDirty = eos && !dirty;
      if (eos) {
        if (!warnedDirty) {
          warnedDirty = true;
          LOG.warn(
              "store {} of task {}: {} bytes of uncommitted writes under exactly-once passed {}={};"
                  + " writing them early and marking the store dirty until its transaction"
                  + " commits (a crash before then restores it from the changelog). {}",
              name,
              taskId,
              batchBytes,
              MAX_UNCOMMITTED_BYTES_CONFIG,
              maxUncommittedBytes,
              reportsTransactions(appConfigs)
                  ? "One transaction wrote this much: lower commit.interval.ms or raise the bound."
                  : "Set "
                      + StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG
                      + "="
                      + BackboneClientSupplier.class.getName()
                      + " so the store commits at every transaction.");
        }
      }
      try {
        writeBatch(markDirty ? wb -> wb.put(metaCf, DIRTY_KEY, FORMAT_V1) : wb -> {});
      } catch (RocksDBException e) {
        throw new ProcessorStateException("cannot write the batch of store " + name, e);
      }
      if (markDirty) {
        dirty = true;
        StoreMetrics sensors = metrics;
        if (sensors != null) {
          sensors.recordDirty();
        }
      }
    } finally {
      batchLock.unlock();
    }
  }

  /** Metadata written in the same atomic write as the pending data. */
  @FunctionalInterface
  private interface MetaWrites {
    void addTo(WriteBatch batch) throws RocksDBException;
  }

  /**
   * Writes the pending data, in key order, and {@code meta} in one atomic RocksDB write, then
   * clears the pending data; the caller holds the batch lock. On failure nothing is cleared.
   */
  private void writeBatch(MetaWrites meta) throws RocksDBException {
    try (WriteBatch batch =
        new WriteBatch((int) Math.min(Integer.MAX_VALUE - 8, batchBytes + 64))) {
      for (Map.Entry<Bytes, byte[]> e : pending.entrySet()) {
        byte[] value = e.getValue();
        if (value == MergedIterator.TOMBSTONE) {
          batch.delete(dataCf, e.getKey().get());
        } else {
          batch.put(dataCf, e.getKey().get(), value);
        }
      }
      meta.addTo(batch);
      db.write(writeOptions, batch);
    }
    pending.clear();
    batchBytes = 0;
  }

  @Override
  public void commit(Map<TopicPartition, Long> changelogOffsets) {
    batchLock.lock();
    try {
      ensureOpen();
      if (changelogOffsets.size() == 1) {
        TopicPartition tp = changelogOffsets.keySet().iterator().next();
        if (tp.topic().endsWith(CHANGELOG_SUFFIX)) {
          changelogPartition = tp; // Kafka Streams' own word on the name wins over ours
        }
      }
      commitBatch(changelogOffsets);
    } finally {
      batchLock.unlock();
    }
  }

  /**
   * The calling stream thread's exactly-once transaction committed, with every write this store got
   * from that thread: apply them with the offset of the last record the transaction wrote to this
   * store's changelog. A transaction that wrote nothing to it (logging disabled, or a source topic
   * serving as changelog) keeps the stored offset: the data may then be ahead of it by committed
   * records that a restore rewrites identically.
   */
  @Override
  public void transactionCommitted(Map<TopicPartition, Long> changelogEndOffsets) {
    batchLock.lock();
    try {
      enlistedOn = null;
      if (!open) {
        return;
      }
      TopicPartition tp = changelogPartition;
      Long offset = tp == null ? null : changelogEndOffsets.get(tp);
      commitBatch(offset == null ? Map.of() : Map.of(tp, offset));
    } finally {
      batchLock.unlock();
    }
  }

  /**
   * The calling thread's transaction aborted or its commit failed: drop the writes it made, so
   * RocksDB keeps its last committed (data, offset). Kafka Streams closes and revives the tasks;
   * they restore from that offset.
   */
  @Override
  public void transactionAborted() {
    batchLock.lock();
    try {
      enlistedOn = null;
      if (!open) {
        return;
      }
      pending.clear();
      batchBytes = 0;
      position = committedPosition.copy();
      if (dirty) {
        LOG.warn(
            "store {} of task {}: its exactly-once transaction aborted after the store wrote it"
                + " early ({} was passed); the store stays dirty and is restored from the"
                + " changelog when Kafka Streams reopens it",
            name,
            taskId,
            MAX_UNCOMMITTED_BYTES_CONFIG);
      }
    } finally {
      batchLock.unlock();
    }
  }

  /** Adds offsets and position to the batch and writes it; the caller holds the batch lock. */
  private void commitBatch(Map<TopicPartition, Long> changelogOffsets) {
    try {
      long start = System.nanoTime();
      long bytes = batchBytes;
      Position committing = position.copy();
      boolean wasDirty = dirty;
      writeBatch(
          batch -> {
            for (Map.Entry<TopicPartition, Long> e : changelogOffsets.entrySet()) {
              if (e.getValue() == null) {
                batch.delete(metaCf, offsetKey(e.getKey()));
              } else {
                batch.put(metaCf, offsetKey(e.getKey()), longBytes(e.getValue()));
              }
            }
            batch.put(metaCf, POSITION_KEY, PositionCodec.encode(committing));
            if (wasDirty) {
              batch.delete(metaCf, DIRTY_KEY);
            }
          });
      dirty = false;
      committedPosition = committing;
      recordCommit(System.nanoTime() - start, bytes, changelogOffsets);
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot commit store " + name, e);
    }
  }

  /** Records a commit in the store's metrics; a failed property read never fails the commit. */
  private void recordCommit(long nanos, long bytes, Map<TopicPartition, Long> changelogOffsets) {
    StoreMetrics sensors = metrics; // read once: close() may clear it
    if (sensors == null) {
      return;
    }
    long offset = -1;
    for (Long o : changelogOffsets.values()) {
      offset = o == null ? offset : Math.max(offset, o);
    }
    try {
      sensors.recordCommit(
          nanos,
          bytes,
          db.getLongProperty(dataCf, "rocksdb.estimate-num-keys"),
          db.getLongProperty(dataCf, "rocksdb.live-sst-files-size"),
          offset,
          false);
    } catch (RocksDBException e) {
      LOG.debug("store {} of task {}: no RocksDB properties for metrics", name, taskId, e);
    }
  }

  @Override
  @SuppressWarnings("deprecation")
  public void flush() {
    // Kafka Streams commits managed-offset stores through commit(Map); a bare flush must not
    // write data without its offset.
  }

  @Override
  public Long committedOffset(TopicPartition partition) {
    ensureOpen();
    try {
      if (db.get(metaCf, DIRTY_KEY) != null) {
        return null;
      }
      byte[] value = db.get(metaCf, offsetKey(partition));
      return value == null ? null : ByteBuffer.wrap(value).getLong();
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot read the offset of store " + name, e);
    }
  }

  @Override
  public Map<TopicPartition, Long> committedOffsets() {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      return readOffsets(db, metaCf);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  static Map<TopicPartition, Long> readOffsets(RocksDB db, ColumnFamilyHandle meta) {
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

  /**
   * The committed changelog offsets of a store that is not open, read from its RocksDB directory
   * ({@code <task dir>/backbone/<store>}) without changing it, e.g. after its process was killed;
   * empty if the store is dirty (it would report no offset).
   */
  public static Map<TopicPartition, Long> committedOffsetsAt(Path storeDirectory) {
    try {
      return SnapshotFiles.readMeta(
          storeDirectory, (db, meta) -> isDirty(db, meta) ? Map.of() : readOffsets(db, meta));
    } catch (RocksDBException e) {
      throw new ProcessorStateException(
          "cannot read the offsets of the store at " + storeDirectory + ": " + e.getMessage(), e);
    }
  }

  static boolean isDirty(RocksDB db, ColumnFamilyHandle meta) throws RocksDBException {
    return db.get(meta, DIRTY_KEY) != null;
  }

  private void restoreAll(Collection<KeyValue<byte[], byte[]>> records) {
    try (WriteBatch restored = new WriteBatch()) {
      for (KeyValue<byte[], byte[]> r : records) {
        if (r.value == null) {
          restored.delete(dataCf, r.key);
        } else {
          restored.put(dataCf, r.key, r.value);
        }
      }
      lifecycle.readLock().lock();
      try {
        ensureOpen();
        db.write(writeOptions, restored);
      } finally {
        lifecycle.readLock().unlock();
      }
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot restore into store " + name, e);
    }
  }

  // ---------------------------------------------------------------- reads

  @Override
  public byte[] get(Bytes key) {
    requireKey(key);
    batchLock.lock();
    try {
      ensureOpen();
      return getLocked(key);
    } finally {
      batchLock.unlock();
    }
  }

  private byte[] getLocked(Bytes key) {
    if (!pending.isEmpty()) {
      byte[] value = pending.get(key);
      if (value != null) {
        return value == MergedIterator.TOMBSTONE ? null : value.clone();
      }
    }
    try {
      return db.get(dataCf, readOptions, key.get());
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot read from store " + name, e);
    }
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
    return scan(rangeOf(from, to), true);
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
    return scan(rangeOf(from, to), false);
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> all() {
    return scan(KeyRange.ALL, true);
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> reverseAll() {
    return scan(KeyRange.ALL, false);
  }

  @Override
  public <PS extends Serializer<P>, P> KeyValueIterator<Bytes, byte[]> prefixScan(
      P prefix, PS prefixKeySerializer) {
    if (prefix == null || prefixKeySerializer == null) {
      throw new NullPointerException("prefix and its serializer must not be null");
    }
    byte[] raw = prefixKeySerializer.serialize(null, prefix);
    return scan(KeyRange.prefix(Bytes.wrap(raw)), true);
  }

  @Override
  public long approximateNumEntries() {
    ensureOpen();
    try {
      long committed = db.getLongProperty(dataCf, "rocksdb.estimate-num-keys");
      long uncommitted;
      batchLock.lock();
      try {
        uncommitted = pending.size();
      } finally {
        batchLock.unlock();
      }
      long sum = committed + uncommitted;
      return sum < 0 ? Long.MAX_VALUE : sum;
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot estimate the size of store " + name, e);
    }
  }

  private static KeyRange rangeOf(Bytes from, Bytes to) {
    KeyRange range = new KeyRange(from, to, true);
    if (range.isEmpty()) {
      LOG.warn(
          "range from {} to {}: the from key is greater than the to key; the result is empty. "
              + "Note that the built-in numerical serdes do not follow numerical order when "
              + "negative numbers are used.",
          from,
          to);
    }
    return range;
  }

  private KeyValueIterator<Bytes, byte[]> scan(KeyRange range, boolean forward) {
    TreeMap<Bytes, byte[]> overlay = new TreeMap<>();
    RocksIterator dbIterator;
    batchLock.lock();
    try {
      ensureOpen();
      if (!range.isEmpty() && batchBytes > 0) {
        copyBatch(range, overlay);
      }
      dbIterator = db.newIterator(dataCf);
    } finally {
      batchLock.unlock();
    }
    if (range.isEmpty()) {
      dbIterator.close();
      return emptyIterator();
    }
    MergedIterator it =
        new MergedIterator(dbIterator, range, forward, overlay, openIterators::remove);
    openIterators.add(it);
    return it;
  }

  private void copyBatch(KeyRange range, TreeMap<Bytes, byte[]> into) {
    NavigableMap<Bytes, byte[]> from =
        range.lower() == null ? pending : pending.tailMap(range.lower(), true);
    for (Map.Entry<Bytes, byte[]> e : from.entrySet()) {
      if (!range.belowUpper(e.getKey())) {
        break;
      }
      byte[] value = e.getValue();
      into.put(e.getKey(), value == MergedIterator.TOMBSTONE ? value : value.clone());
    }
  }

  private static KeyValueIterator<Bytes, byte[]> emptyIterator() {
    return new KeyValueIterator<>() {
      @Override
      public void close() {}

      @Override
      public Bytes peekNextKey() {
        throw new java.util.NoSuchElementException("empty range");
      }

      @Override
      public boolean hasNext() {
        return false;
      }

      @Override
      public KeyValue<Bytes, byte[]> next() {
        throw new java.util.NoSuchElementException("empty range");
      }
    };
  }

  // ---------------------------------------------------------------- IQv2

  @Override
  @SuppressWarnings("unchecked")
  public <R> QueryResult<R> query(Query<R> query, PositionBound bound, QueryConfig config) {
    long start = System.nanoTime();
    Position seen = position.copy();
    Integer partition = taskId == null ? null : taskId.partition();
    QueryResult<R> result;
    if (!PositionBounds.permits(seen, bound, partition)) {
      result = QueryResult.notUpToBound(seen, bound, partition);
    } else if (query instanceof KeyQuery<?, ?> keyQuery) {
      Object key = keyQuery.getKey();
      result = (QueryResult<R>) QueryResult.forResult(get((Bytes) key));
    } else if (query instanceof RangeQuery<?, ?> rangeQuery) {
      Bytes lower = (Bytes) rangeQuery.getLowerBound().orElse(null);
      Bytes upper = (Bytes) rangeQuery.getUpperBound().orElse(null);
      boolean forward = rangeQuery.resultOrder() != ResultOrder.DESCENDING;
      KeyValueIterator<Bytes, byte[]> it =
          lower == null && upper == null
              ? (forward ? all() : reverseAll())
              : scan(new KeyRange(lower, upper, true), forward);
      result = (QueryResult<R>) QueryResult.forResult(it);
    } else {
      result = QueryResult.forUnknownQueryType(query, this);
    }
    if (config != null && config.isCollectExecutionInfo()) {
      result.addExecutionInfo(
          "Handled in "
              + getClass().getName()
              + " in "
              + (System.nanoTime() - start)
              + "ns with position "
              + seen);
    }
    result.setPosition(seen);
    return result;
  }

  @Override
  public Position getPosition() {
    return position;
  }

  // ---------------------------------------------------------------- snapshots

  @Override
  public Snapshot snapshot() {
    return snapshot(taskDir.resolve(SNAPSHOTS_DIR).resolve(name));
  }

  @Override
  public Snapshot snapshot(Path parent) {
    lifecycle.readLock().lock();
    try {
      if (!open) {
        throw new RetriableBackboneException(
            "STORE_CLOSED",
            "store " + name + " of task " + taskId + " is not open; ask again once it runs");
      }
      return snapshotFiles.cut(this, db, metaCf, parent);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public void install(Path snapshotDirectory) {
    SnapshotManifest manifest =
        snapshotFiles.verify(snapshotDirectory, applicationId, taskId, name);
    lifecycle.writeLock().lock();
    try {
      Path staging = dbDir.resolveSibling(name + ".installing");
      Path previous = dbDir.resolveSibling(name + ".previous");
      SnapshotFiles.deleteRecursively(staging);
      SnapshotFiles.deleteRecursively(previous);
      snapshotFiles.copyInto(snapshotDirectory, manifest, staging);
      boolean wasOpen = open;
      if (wasOpen) {
        closeDb();
      }
      try {
        if (Files.exists(dbDir)) {
          Files.move(dbDir, previous);
        }
        Files.move(staging, dbDir);
        openDb();
      } catch (IOException | RuntimeException e) {
        // Put the old data back exactly as it was.
        SnapshotFiles.deleteRecursively(dbDir);
        if (Files.exists(previous)) {
          Files.move(previous, dbDir);
        }
        if (wasOpen) {
          openDb();
        }
        throw new FatalBackboneException(
            "SNAPSHOT_INSTALL_FAILED",
            "could not open store "
                + name
                + " of task "
                + taskId
                + " from snapshot "
                + snapshotDirectory
                + ": "
                + e.getMessage()
                + "; the store keeps its old data",
            e);
      }
      SnapshotFiles.deleteRecursively(previous);
      LOG.info(
          "store {} of task {} installed snapshot {} (offsets {})",
          name,
          taskId,
          snapshotDirectory,
          manifest.changelogOffsets());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  /** Changelog offsets as the manifest lists them, skipping Kafka Streams' "unknown" sentinel. */
  static List<ChangelogOffset> manifestOffsets(Map<TopicPartition, Long> offsets) {
    List<ChangelogOffset> list = new ArrayList<>();
    offsets.forEach(
        (tp, offset) -> {
          if (offset >= 0) {
            list.add(new ChangelogOffset(tp.topic(), tp.partition(), offset));
          }
        });
    list.sort(
        (a, b) ->
            a.topic().equals(b.topic())
                ? Integer.compare(a.partition(), b.partition())
                : a.topic().compareTo(b.topic()));
    return list;
  }

  SnapshotManifest manifest(
      Map<TopicPartition, Long> offsets, List<SnapshotManifest.SnapshotFile> files) {
    return new SnapshotManifest(
        SnapshotManifest.FORMAT_VERSION,
        applicationId,
        String.valueOf(taskId),
        name,
        manifestOffsets(offsets),
        files,
        Instant.now());
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void close() {
    SnapshotStores.unregister(this);
    StreamThreadTransactions.forget(this);
    StoreMetrics sensors = metrics;
    metrics = null;
    if (sensors != null) {
      sensors.close();
    }
    lifecycle.writeLock().lock();
    try {
      if (open) {
        closeDb();
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  /** Drops uncommitted writes, closes iterators and RocksDB; the caller holds the write lock. */
  private void closeDb() {
    batchLock.lock();
    try {
      open = false;
      for (MergedIterator it : List.copyOf(openIterators)) {
        it.close();
      }
      openIterators.clear();
      pending.clear();
      batchBytes = 0;
      handles.forEach(ColumnFamilyHandle::close);
      handles = List.of();
      db.close();
      db = null;
      writeOptions.close();
      readOptions.close();
      tuning.close();
    } finally {
      batchLock.unlock();
    }
  }

  /**
   * Kafka Streams' name of a store's changelog topic: {@code <application.id>-<store>-changelog}.
   */
  static String changelogTopic(String applicationId, String store) {
    return applicationId + "-" + store + CHANGELOG_SUFFIX;
  }

  /**
   * Whether the producers of this application report their transactions: {@code
   * default.client.supplier} is a {@link BackboneClientSupplier}, or (a supplier handed to the
   * {@code KafkaStreams} constructor) a reporting producer is open in this JVM.
   */
  static boolean reportsTransactions(Map<String, Object> configs) {
    Object supplier = configs.get(StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG);
    if (supplier instanceof Class<?> type) {
      return BackboneClientSupplier.class.isAssignableFrom(type);
    }
    if (supplier instanceof String className && !className.isBlank()) {
      try {
        return BackboneClientSupplier.class.isAssignableFrom(
            Class.forName(className.trim(), false, BackboneKeyValueStore.class.getClassLoader()));
      } catch (ClassNotFoundException | LinkageError e) {
        return false;
      }
    }
    return StreamThreadTransactions.reportingProducerOpen();
  }

  private void warnNoClientSupplier() {
    if (WARNED_NO_CLIENT_SUPPLIER.compareAndSet(false, true)) {
      LOG.warn(
          "store {} of task {} runs under exactly_once_v2 without {}={}: Kafka Streams 4.3 then"
              + " commits the store only when a task is suspended or closed, so its uncommitted"
              + " writes grow until then and, past {}, are written early and the store is marked"
              + " dirty (a crash then restores it from the changelog and it cannot be"
              + " snapshotted). Set {} to make stores commit at every transaction.",
          name,
          taskId,
          StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG,
          BackboneClientSupplier.class.getName(),
          MAX_UNCOMMITTED_BYTES_CONFIG,
          StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG);
    }
  }

  private void ensureOpen() {
    if (!open) {
      throw new InvalidStateStoreException("store " + name + " is currently closed");
    }
  }

  private static void requireKey(Bytes key) {
    if (key == null) {
      throw new NullPointerException("a key must not be null");
    }
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
