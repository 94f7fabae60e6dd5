package dev.backbone.store.internals;

import dev.backbone.bootstrap.BootstrapSource;
import dev.backbone.bootstrap.ColdBootstrap;
import dev.backbone.errors.BackboneException;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.store.BackboneClientSupplier;
import dev.backbone.store.ServingTasks;
import dev.backbone.store.Snapshot;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotStore;
import dev.backbone.store.SnapshotStores;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.LockException;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.processor.internals.ChangelogRecordDeserializationHelper;
import org.apache.kafka.streams.processor.internals.RecordBatchingStateRestoreCallback;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.HeadersBytesStore;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.internals.WrappedStateStore;
import org.rocksdb.LiveFileMetaData;
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
 * RocksDB holds only (data, offsets) pairs that were written together by one atomic {@code
 * db.write(batch)}, and under exactly-once only pairs of transactions that committed: the offset of
 * every changelog partition lives in the {@code backbone-meta} column family ({@link StoreMeta}),
 * in the same write batch as the data it belongs to. So a RocksDB checkpoint, a restart after
 * {@code kill -9} (the write-ahead log is on) or a snapshot install always yields data and the
 * offset it corresponds to. A store whose data cannot be trusted as such a pair is marked
 * <em>dirty</em> in the same kind of write, reports no offset, cuts no snapshot, and is emptied
 * when it next opens, so Kafka Streams rebuilds it from the changelog.
 *
 * <p>Writes between commits go to the {@link WriteBuffer}; the processor's reads and {@code
 * READ_UNCOMMITTED} queries see it, {@code READ_COMMITTED} queries do not. {@link #commit(Map)}
 * writes it, in key order, with the offsets and the query position in one atomic write. {@link
 * #close()} drops what was not committed.
 *
 * <h2>When Kafka Streams commits the store (read in Kafka Streams 4.4.0)</h2>
 *
 * <ul>
 *   <li><b>at_least_once</b>: {@code StreamTask#postCommit} commits the stores after every consumer
 *       offset commit; the data is applied with whatever offsets it gets. Kafka Streams commits
 *       early once the stores' {@link #approximateNumUncommittedBytes()} pass {@code
 *       statestore.uncommitted.max.bytes} ({@code StreamThread#maybeCommit}), so the buffer stays
 *       bounded without ever writing data ahead of a commit.
 *   <li><b>exactly_once_v2</b> requires {@code enable.transactional.statestores=true} (KIP-892):
 *       then {@code postCommit} commits a running task's stores after every transaction commit, and
 *       a dirty close no longer wipes them ({@code StateManagerUtil#closeStateManager}). But Kafka
 *       Streams also post-commits on paths where the transaction did not commit ({@code
 *       TaskManager#tryCloseCleanActiveTasks} after a failed commit), so the store applies a
 *       non-empty buffer of a logged store only if the calling thread's transaction is known to
 *       have committed ({@link StreamThreadTransactions}, fed by {@link BackboneClientSupplier}'s
 *       producer) and its writes belong to exactly that transaction. An unknown outcome (a commit
 *       that timed out) keeps the buffer: a retry that commits is followed by another commit call,
 *       which applies it; a close drops it. An aborted transaction drops it.
 *   <li><b>A corrupted changelog</b>: Kafka Streams marks it and commits the store with no offset
 *       ({@code TaskManager#closeDirtyAndRevive}: {@code markChangelogAsCorrupted}, then {@code
 *       postCommit(true)}); the store drops its buffer and turns dirty.
 *   <li><b>Restoration</b> (active restore, standbys): changelog records are committed data, so
 *       they go straight to RocksDB, batch by batch, and the buffer stays empty. The store may then
 *       be ahead of its stored offset by records of the changelog itself; replaying from the offset
 *       rewrites them identically.
 * </ul>
 *
 * The store learns that it is logged, and its changelog partition, from Kafka Streams asking its
 * committed offset of that partition ({@code ProcessorStateManager#initializeStoreOffsets}) or
 * committing one.
 *
 * <h2>Threads</h2>
 *
 * The stream (or state-updater) thread writes and commits; interactive queries and snapshots come
 * from other threads. The buffer is guarded by {@link #batchLock}; iterators copy the buffer's
 * entries in their range when created and read RocksDB through its implicit snapshot, so a later
 * write never moves them. Open, close, snapshot, install and every read of RocksDB outside the
 * batch lock (a committed key read, {@link #readCommitted}, among them) hold {@link #lifecycle}, so
 * a close never frees RocksDB under a reader.
 */
public class BackboneKeyValueStore
    implements KeyValueStore<Bytes, byte[]>, SnapshotStore, AutoCloseable {
  /** The directory under the task directory that holds the stores' own snapshots. */
  public static final String SNAPSHOTS_DIR = "backbone-snapshots";

  static final String DB_DIR = "backbone";

  /** Where, inside the task directory, cold bootstrap stages the copies it fetches. */
  static final String BOOTSTRAP_DIR = "backbone-bootstrap";

  private static final Logger LOG = LoggerFactory.getLogger(BackboneKeyValueStore.class);

  static {
    RocksDB.loadLibrary();
  }

  private final String name;
  private final DirectorySwap.Rename rename;
  private final ReentrantLock batchLock = new ReentrantLock();
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private final Set<MergedIterator> openIterators = ConcurrentHashMap.newKeySet();
  private final SnapshotFiles snapshotFiles = new SnapshotFiles();

  /** The writes since the last commit; guarded by the batch lock. */
  private final WriteBuffer buffer = new WriteBuffer();

  private StateStoreContext context;
  private String applicationId;
  private TaskId taskId;
  private boolean eos;

  /**
   * Whether changelog records carry the position of the data they were written at ({@code
   * __iq.consistency.offset.vector.enabled__}, which {@code BackboneStores.streamsSettings()}
   * sets): then a restored or standby replica knows the position of what it restored.
   */
  private boolean changelogPositions;

  private Path dbDir;
  private Path taskDir;
  private DirectorySwap swap;
  private Map<String, Object> appConfigs = Map.of();
  private Optional<ServingTasks> serving = Optional.empty();
  private StateStore root;
  private Optional<SnapshotStores> registry = Optional.empty();

  /** The open RocksDB; null while closed. */
  private RocksHandle rocks;

  /** Null when the context has no metrics registry, and after close. */
  private volatile StoreMetrics metrics;

  /** The position of the data including the buffer; what uncommitted reads reflect. */
  private volatile Position position = Position.emptyPosition();

  /**
   * The position of the data in RocksDB. Written under the batch lock, and always after the data it
   * describes (a commit's or a restored batch's write); volatile, because a committed key read
   * takes it without that lock (see {@link #readCommitted}).
   */
  private volatile Position committedPosition = Position.emptyPosition();

  /** The store's changelog partition, once Kafka Streams named it; null for an unlogged store. */
  private volatile TopicPartition changelogPartition;

  /** Whether Kafka Streams has read the committed offset since init: no install after that. */
  private volatile boolean offsetsRead;

  /** Transactions the writing thread had ended when the buffer got its first write. */
  private long bufferBase;

  /** The buffer outlived a commit call whose transaction had no known outcome. */
  private volatile boolean outcomeUnknown;

  private volatile boolean dirty;
  private volatile boolean open;

  /**
   * The offset of the last changelog record restored into the data since the store opened, per
   * partition: a standby's data runs ahead of its last commit by these. Set after the write.
   */
  private final Map<TopicPartition, Long> restoredThrough = new ConcurrentHashMap<>();

  /** The background checksumming of the live SST files while the store is open. */
  private volatile ScheduledFuture<?> warming;

  private TransactionGate gate;

  /** A store named {@code name}; nothing opens before {@link #init}. */
  public BackboneKeyValueStore(String name) {
    this(name, DirectorySwap.FILES_MOVE);
  }

  /** For tests that make a directory rename of {@link #install} fail. */
  BackboneKeyValueStore(String name, DirectorySwap.Rename rename) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a store name is required");
    }
    this.name = name;
    this.rename = rename;
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
  @SuppressWarnings("deprecation") // deprecated on its way to becoming the only mode (KIP-1035)
  public boolean managesOffsets() {
    return true;
  }

  /**
   * Whether {@code root} wraps this store through Kafka Streams' wrapping layers alone ({@code
   * WrappedStateStore}: metered, caching, change-logging, 4.4.0), each of which passes a query it
   * has no handler for to the store it wraps; a format adapter in between (a plain store under a
   * DSL timestamped store, {@code KeyValueToTimestampedKeyValueByteStoreAdapter}) is no such layer.
   */
  private boolean reachedThroughWrappers(StateStore root) {
    StateStore layer = root;
    while (layer != this && layer instanceof WrappedStateStore<?, ?, ?> wrapper) {
      layer = wrapper.wrapped();
    }
    return layer == this;
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
    this.eos = StoreSettings.of(name, taskId, appConfigs).exactlyOnce();
    this.changelogPositions =
        StreamsConfig.InternalConfig.getBoolean(
            appConfigs, StreamsConfig.InternalConfig.IQ_CONSISTENCY_OFFSET_VECTOR_ENABLED, false);
    this.gate = new TransactionGate(name, taskId);
    this.taskDir = context.stateDir().toPath();
    this.dbDir = taskDir.resolve(DB_DIR).resolve(name);
    this.swap = new DirectorySwap(dbDir, rename);
    this.changelogPartition = null;
    this.offsetsRead = false;
    lifecycle.writeLock().lock();
    try {
      try {
        swap.recover();
      } catch (IOException e) {
        throw new ProcessorStateException(
            "cannot finish or undo an interrupted snapshot install of store "
                + name
                + " at "
                + dbDir,
            e);
      }
      openDb();
    } finally {
      lifecycle.writeLock().unlock();
    }
    if (!isStartupInit(context)) {
      ColdBootstrap.in(appConfigs).ifPresent(this::bootstrapIfNeeded);
    }
    context.register(root, new Restorer());
    metrics = StoreMetrics.create(context.metrics(), taskId, name);
    registry = SnapshotStores.in(appConfigs);
    registry.ifPresent(r -> r.register(this));
    this.root = root;
    serving = ServingTasks.in(appConfigs);
    boolean storedValues = !(this instanceof HeadersBytesStore) && reachedThroughWrappers(root);
    serving.ifPresent(s -> s.storeOpened(taskId, name, root, storedValues));
  }

  /**
   * Whether this {@code init()} is Kafka Streams opening the stores it finds on disk while {@code
   * KafkaStreams#start()} runs, before any assignment ({@code
   * StateDirectory#initializeStartupStores} with its {@code StartupContext}, read in 4.4.0): it
   * registers them, commits and closes them again, and the task's real {@code init()} comes once it
   * is assigned. No bootstrap then: the task may not even be assigned here, and a {@code
   * LockException} there would fail {@code start()} itself (a node killed mid-copy could not start
   * again).
   */
  static boolean isStartupInit(StateStoreContext context) {
    return context.getClass().getName().equals(STARTUP_CONTEXT);
  }

  private static final String STARTUP_CONTEXT =
      "org.apache.kafka.streams.processor.internals.StateDirectory$StartupContext";

  /**
   * Cold bootstrap, inside {@code init()} and before Kafka Streams asks the committed offset: a
   * store whose local state holds no committed offset is filled from a peer's snapshot, and so is
   * one whose changelog tail is estimated slower to replay than a copy ({@link
   * dev.backbone.bootstrap.CopyOrReplay}, decided by the node's {@code BootstrapSource}). The copy
   * runs off the stream thread ({@link ColdBootstrap}); until it is complete this {@code init()}
   * closes RocksDB again and fails with {@link LockException}, which Kafka Streams retries.
   */
  private void bootstrapIfNeeded(ColdBootstrap cold) {
    BootstrapSource.Request request = bootstrapRequest();
    if (request == null) {
      return;
    }
    ColdBootstrap.Outcome outcome =
        cold.poll(request, taskDir.resolve(BOOTSTRAP_DIR).resolve(name));
    if (outcome instanceof ColdBootstrap.Outcome.InProgress progress) {
      lifecycle.writeLock().lock();
      try {
        closeDb();
      } finally {
        lifecycle.writeLock().unlock();
      }
      throw new LockException(
          "store "
              + name
              + " of task "
              + taskId
              + " is being filled from a peer's snapshot ("
              + progress.status()
              + "); Kafka Streams retries its initialization until the copy is in");
    }
    if (outcome instanceof ColdBootstrap.Outcome.Blocked blocked) {
      refuseInit("cannot be initialized: " + blocked.why());
    }
    if (outcome instanceof ColdBootstrap.Outcome.Ready ready) {
      try {
        // PeerSnapshotFetcher checked every file's CRC32C against the manifest as it arrived, off
        // this thread; here only the manifest, the sizes and the age, not another read of it all.
        install(ready.snapshot(), ready.changelogDeleteRetention(), false);
      } catch (BackboneException e) {
        cold.installFailed(request, ready, e);
        if (ready.required()) {
          refuseInit(
              "cannot be restored from its changelog, and the copy from "
                  + ready.result().from().nodeId()
                  + " could not be installed ("
                  + e.getMessage()
                  + "); it is tried again at the next initialization");
        }
        return;
      }
      cold.installed(request, ready);
      LOG.info(
          "store {} of task {}: installed a snapshot from {} ({} bytes in {} ms); Kafka Streams"
              + " restores the changelog from offset {} on",
          name,
          taskId,
          ready.result().from().nodeId(),
          ready.result().bytes(),
          ready.result().took().toMillis(),
          committedOffsets().values());
    }
  }

  /**
   * Fails this {@code init()} so that Kafka Streams retries it later ({@code LockException}, as for
   * a copy in progress), the store closed again and nothing restored meanwhile.
   */
  private void refuseInit(String why) {
    lifecycle.writeLock().lock();
    try {
      closeDb();
    } finally {
      lifecycle.writeLock().unlock();
    }
    throw new LockException("store " + name + " of task " + taskId + " " + why);
  }

  /**
   * What this store holds, for the bootstrap's plan: its changelog offset and its size; null when
   * its size cannot be read (no copy is weighed then).
   */
  private BootstrapSource.Request bootstrapRequest() {
    Map<TopicPartition, Long> offsets = committedOffsets();
    if (offsets.isEmpty()) {
      return BootstrapSource.Request.empty(applicationId, taskId, name);
    }
    long offset = offsets.values().stream().mapToLong(Long::longValue).max().orElseThrow();
    if (offset < 0) {
      // A sentinel, not an offset (Kafka Streams' OffsetCheckpoint.OFFSET_UNKNOWN is -4): the
      // store knows no position in its changelog, and Kafka Streams restores it from the start.
      return BootstrapSource.Request.empty(applicationId, taskId, name);
    }
    long bytes;
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      bytes = rocks.db.getLongProperty(rocks.data, "rocksdb.live-sst-files-size");
    } catch (RocksDBException e) {
      LOG.warn(
          "store {} of task {}: its size cannot be read ({}), so it replays its changelog tail"
              + " without weighing a copy",
          name,
          taskId,
          e.toString());
      return null;
    } finally {
      lifecycle.readLock().unlock();
    }
    return new BootstrapSource.Request(applicationId, taskId, name, OptionalLong.of(offset), bytes);
  }

  /**
   * Opens RocksDB at {@link #dbDir}; a dirty store is emptied first. The caller holds the lifecycle
   * write lock.
   */
  private void openDb() {
    openRocksDb();
    boolean wasDirty;
    try {
      wasDirty = StoreMeta.isDirty(rocks.db, rocks.meta);
    } catch (RocksDBException e) {
      closeDb();
      throw new ProcessorStateException("cannot read the metadata of store " + name, e);
    }
    if (wasDirty) {
      LOG.warn(
          "store {} of task {} at {} is marked dirty (its data is not a committed pair); emptying"
              + " it so that Kafka Streams rebuilds it from the changelog",
          name,
          taskId,
          dbDir);
      closeDb();
      SnapshotFiles.deleteRecursively(dbDir);
      openRocksDb();
    }
  }

  private void openRocksDb() {
    snapshotFiles.clearCache();
    restoredThrough.clear();
    rocks = RocksHandle.open(name, dbDir, appConfigs);
    warming =
        SnapshotFiles.WARMER.scheduleWithFixedDelay(
            this::warmChecksums,
            SnapshotFiles.WARM_EVERY.toMillis(),
            SnapshotFiles.WARM_EVERY.toMillis(),
            TimeUnit.MILLISECONDS);
    buffer.clear();
    outcomeUnknown = false;
    open = true;
    try {
      StoreMeta.checkFormat(rocks.db, rocks.meta, rocks.writeOptions, name, dbDir);
      dirty = StoreMeta.isDirty(rocks.db, rocks.meta);
      Position reopened = StoreMeta.position(rocks.db, rocks.meta);
      position = reopened;
      committedPosition = reopened.copy();
    } catch (RocksDBException | RuntimeException e) {
      closeDb();
      if (e instanceof FatalBackboneException fatal) {
        throw fatal;
      }
      throw new ProcessorStateException("cannot read the metadata of store " + name, e);
    }
  }

  // ---------------------------------------------------------------- writes

  @Override
  public void put(Bytes key, byte[] value) {
    write(key, value);
  }

  @Override
  public byte[] putIfAbsent(Bytes key, byte[] value) {
    requireKey(key);
    byte[] old;
    batchLock.lock();
    try {
      ensureOpen();
      old = read(key, false);
      if (old == null) {
        buffered(key, value);
      }
    } finally {
      batchLock.unlock();
    }
    if (old == null) {
      trackPosition();
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
        buffered(e.key, e.value);
      }
    } finally {
      batchLock.unlock();
    }
    trackPosition();
  }

  @Override
  public byte[] delete(Bytes key) {
    requireKey(key);
    byte[] old;
    batchLock.lock();
    try {
      ensureOpen();
      old = read(key, false);
      buffered(key, null);
    } finally {
      batchLock.unlock();
    }
    trackPosition();
    return old;
  }

  private void write(Bytes key, byte[] value) {
    requireKey(key);
    batchLock.lock();
    try {
      ensureOpen();
      buffered(key, value);
    } finally {
      batchLock.unlock();
    }
    trackPosition();
  }

  /** Adds a write to the buffer; the caller holds the batch lock. */
  private void buffered(Bytes key, byte[] value) {
    if (buffer.isEmpty()) {
      bufferBase = StreamThreadTransactions.ended();
    }
    buffer.put(key, value);
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

  @Override
  public long approximateNumUncommittedBytes() {
    batchLock.lock();
    try {
      return buffer.bytes();
    } finally {
      batchLock.unlock();
    }
  }

  // ---------------------------------------------------------------- commits

  @Override
  public void commit(Map<TopicPartition, Long> changelogOffsets) {
    batchLock.lock();
    try {
      ensureOpen();
      if (changelogOffsets.size() == 1) {
        changelogPartition = changelogOffsets.keySet().iterator().next();
      }
      if (changelogOffsets.isEmpty() && changelogPartition != null) {
        corrupted();
        return;
      }
      if (eos && changelogPartition != null && !buffer.isEmpty() && !bufferCommitted()) {
        return;
      }
      commitBuffer(changelogOffsets);
    } finally {
      batchLock.unlock();
    }
  }

  /**
   * Whether the buffer holds exactly the writes of the calling thread's transaction that just
   * committed; if not, keeps or drops it as its transaction's outcome says. The caller holds the
   * batch lock.
   */
  private boolean bufferCommitted() {
    switch (gate.judge(bufferBase, buffer.size(), outcomeUnknown)) {
      case APPLY -> {
        return true;
      }
      case KEEP -> outcomeUnknown = true;
      case DROP -> dropBuffer();
      case CORRUPT -> corrupted();
    }
    return false;
  }

  /** Drops the buffer: its writes will never be applied. The caller holds the batch lock. */
  private void dropBuffer() {
    buffer.clear();
    outcomeUnknown = false;
    position = committedPosition.copy();
  }

  /**
   * The data can no longer be trusted to match a changelog offset: drop the buffer and mark the
   * store dirty, so it reports no offset and is rebuilt when it next opens. The caller holds the
   * batch lock.
   */
  private void corrupted() {
    dropBuffer();
    if (dirty) {
      return;
    }
    try (WriteBatch batch = new WriteBatch()) {
      StoreMeta.addDirty(batch, rocks.meta);
      rocks.db.write(rocks.writeOptions, batch);
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot mark store " + name + " dirty", e);
    }
    dirty = true;
    StoreMetrics sensors = metrics;
    if (sensors != null) {
      sensors.recordDirty();
    }
    LOG.warn(
        "store {} of task {}: Kafka Streams marked its changelog {} corrupted; the store drops its"
            + " uncommitted writes and is rebuilt from the changelog when it next opens",
        name,
        taskId,
        changelogPartition);
  }

  /**
   * Writes the buffer with the offsets and position in one atomic write; the caller holds the batch
   * lock.
   */
  private void commitBuffer(Map<TopicPartition, Long> changelogOffsets) {
    long start = System.nanoTime();
    long bytes = buffer.bytes();
    boolean processed = !buffer.isEmpty();
    Position committing = position.copy();
    try (WriteBatch batch =
        new WriteBatch((int) Math.min(Integer.MAX_VALUE - 8, buffer.bytes() + 128))) {
      buffer.addTo(batch, rocks.data);
      StoreMeta.addOffsets(batch, rocks.meta, changelogOffsets);
      StoreMeta.addPosition(batch, rocks.meta, committing);
      if (processed) {
        StoreMeta.addDataAsOf(batch, rocks.meta, Instant.now());
      }
      rocks.db.write(rocks.writeOptions, batch);
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot commit store " + name, e);
    }
    buffer.clear();
    outcomeUnknown = false;
    committedPosition = committing;
    recordCommit(System.nanoTime() - start, bytes, changelogOffsets);
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
          rocks.db.getLongProperty(rocks.data, "rocksdb.estimate-num-keys"),
          rocks.db.getLongProperty(rocks.data, "rocksdb.live-sst-files-size"),
          offset,
          dirty);
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
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      changelogPartition = partition;
      offsetsRead = true;
      return dirty ? null : StoreMeta.offset(rocks.db, rocks.meta, partition);
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot read the offset of store " + name, e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public Map<TopicPartition, Long> committedOffsets() {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      return dirty ? Map.of() : StoreMeta.offsets(rocks.db, rocks.meta);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * The committed changelog offsets of a store that is not open, read from its RocksDB directory
   * ({@code <task dir>/backbone/<store>}) without changing it, e.g. after its process was killed;
   * empty if the store is dirty (it would report no offset).
   */
  public static Map<TopicPartition, Long> committedOffsetsAt(Path storeDirectory) {
    try {
      return SnapshotFiles.readMeta(
          storeDirectory,
          (db, meta) -> StoreMeta.isDirty(db, meta) ? Map.of() : StoreMeta.offsets(db, meta));
    } catch (RocksDBException e) {
      throw new ProcessorStateException(
          "cannot read the offsets of the store at " + storeDirectory + ": " + e.getMessage(), e);
    }
  }

  /**
   * Applies restored changelog records. Kafka Streams hands a {@link
   * RecordBatchingStateRestoreCallback} the records with their offsets ({@code
   * ProcessorStateManager#restore} adapts every callback to one), which the store keeps as {@link
   * #appliedOffsets()}: a standby's data runs ahead of its last commit, and a peer it lends to can
   * be told so.
   */
  private final class Restorer implements RecordBatchingStateRestoreCallback {
    @Override
    public void restoreBatch(Collection<ConsumerRecord<byte[], byte[]>> records) {
      Map<TopicPartition, Long> last = new HashMap<>();
      // The position of the restored data: each changelog record carries the store's position when
      // it was written (ProcessorContextImpl#logChange adds it when consistency vectors are on);
      // Kafka's own ChangelogRecordDeserializationHelper reads it, as RocksDBStore's restore does.
      Position restoredPosition = Position.emptyPosition();
      try (WriteBatch restored = new WriteBatch()) {
        for (ConsumerRecord<byte[], byte[]> r : records) {
          add(restored, r.key(), r.value());
          last.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::max);
          ChangelogRecordDeserializationHelper.applyChecksAndUpdatePosition(
              r, changelogPositions, restoredPosition);
        }
        Position merged = null;
        if (!restoredPosition.isEmpty()) {
          batchLock.lock();
          try {
            merged = committedPosition.copy().merge(restoredPosition);
          } finally {
            batchLock.unlock();
          }
          addPosition(restored, merged);
        }
        write(restored, records.size());
        if (merged != null) {
          // Only after the data: a read never sees a position ahead of the data it reads.
          batchLock.lock();
          try {
            // a new object, not merged in place: committed reads copy it without the lock
            committedPosition = committedPosition.copy().merge(restoredPosition);
            position.merge(restoredPosition);
          } finally {
            batchLock.unlock();
          }
        }
      }
      // After the write: whoever reads these offsets, then cuts a snapshot, gets these records.
      last.forEach((tp, offset) -> restoredThrough.merge(tp, offset, Math::max));
    }

    private void addPosition(WriteBatch batch, Position merged) {
      try {
        StoreMeta.addPosition(batch, rocks.meta, merged);
      } catch (RocksDBException e) {
        throw new ProcessorStateException("cannot restore into store " + name, e);
      }
    }

    @Override
    public void restoreAll(Collection<KeyValue<byte[], byte[]>> records) {
      try (WriteBatch restored = new WriteBatch()) {
        for (KeyValue<byte[], byte[]> r : records) {
          add(restored, r.key, r.value);
        }
        write(restored, records.size());
      }
    }

    private void add(WriteBatch batch, byte[] key, byte[] value) {
      try {
        if (value == null) {
          batch.delete(rocks.data, key);
        } else {
          batch.put(rocks.data, key, value);
        }
      } catch (RocksDBException e) {
        throw new ProcessorStateException("cannot restore into store " + name, e);
      }
    }

    private void write(WriteBatch batch, int records) {
      lifecycle.readLock().lock();
      try {
        ensureOpen();
        rocks.db.write(rocks.writeOptions, batch);
      } catch (RocksDBException e) {
        throw new ProcessorStateException("cannot restore into store " + name, e);
      } finally {
        lifecycle.readLock().unlock();
      }
      if (metrics != null) {
        metrics.recordRestored(records);
      }
    }
  }

  // ---------------------------------------------------------------- reads

  @Override
  public byte[] get(Bytes key) {
    requireKey(key);
    batchLock.lock();
    try {
      ensureOpen();
      return read(key, false);
    } finally {
      batchLock.unlock();
    }
  }

  /**
   * A value and the position of the data it was read from, taken together.
   *
   * @param value the value, null if the key is absent
   * @param position what the read reflects
   */
  record Read(byte[] value, Position position) {}

  /** Reads a key from committed data only, or with the buffer; both with their position. */
  Read read(Bytes key, IsolationLevel isolation) {
    requireKey(key);
    boolean committedOnly = isolation == IsolationLevel.READ_COMMITTED;
    if (committedOnly) {
      return readCommitted(key);
    }
    batchLock.lock();
    try {
      ensureOpen();
      return new Read(
          read(key, committedOnly), (committedOnly ? committedPosition : position).copy());
    } finally {
      batchLock.unlock();
    }
  }

  /**
   * A key read of committed data, without the batch lock: RocksDB holds committed data only, a
   * commit reaches it in one atomic {@code WriteBatch}, and {@code RocksDB#get} is thread-safe, so
   * the read needs only the store to stay open (the lifecycle read lock, which readers share). With
   * the batch lock, every concurrent reader of a partition queued behind the others and behind the
   * stream thread's commit (the batch write and its metrics).
   *
   * <p>The position is taken before the data, and every writer publishes the position after the
   * data: so the position never claims a write the value does not reflect. It may claim less (a
   * commit landing between the two), which a read-your-writes token tolerates: it is a lower bound.
   * Kafka's {@code RocksDBStore} orders its writes the same way ({@code put} writes the data, then
   * {@code StoreQueryUtils#updatePosition}); it serializes its gets with its puts on the store's
   * monitor, which committed reads here need not, as committed data changes only by whole batches.
   */
  private Read readCommitted(Bytes key) {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      Position seen = committedPosition.copy();
      try {
        return new Read(rocks.db.get(rocks.data, rocks.readOptions, key.get()), seen);
      } catch (RocksDBException e) {
        throw new ProcessorStateException("cannot read from store " + name, e);
      }
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** The caller holds the batch lock and has checked the store is open. */
  private byte[] read(Bytes key, boolean committedOnly) {
    if (!committedOnly) {
      byte[] buffered = buffer.lookup(key);
      if (buffered != null) {
        return buffered == MergedIterator.TOMBSTONE ? null : buffered.clone();
      }
    }
    try {
      return rocks.db.get(rocks.data, rocks.readOptions, key.get());
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot read from store " + name, e);
    }
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
    return scan(KeyRange.requested(from, to), true, false).iterator();
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
    return scan(KeyRange.requested(from, to), false, false).iterator();
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> all() {
    return scan(KeyRange.ALL, true, false).iterator();
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> reverseAll() {
    return scan(KeyRange.ALL, false, false).iterator();
  }

  @Override
  public <PS extends Serializer<P>, P> KeyValueIterator<Bytes, byte[]> prefixScan(
      P prefix, PS prefixKeySerializer) {
    return scan(KeyRange.prefix(prefix, prefixKeySerializer), true, false).iterator();
  }

  @Override
  public ReadOnlyKeyValueStore<Bytes, byte[]> readOnly(IsolationLevel isolationLevel) {
    return isolationLevel == IsolationLevel.READ_COMMITTED ? new CommittedView(this) : this;
  }

  @Override
  public long approximateNumEntries() {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      long committed = rocks.db.getLongProperty(rocks.data, "rocksdb.estimate-num-keys");
      long uncommitted;
      batchLock.lock();
      try {
        uncommitted = buffer.size();
      } finally {
        batchLock.unlock();
      }
      long sum = committed + uncommitted;
      return sum < 0 ? Long.MAX_VALUE : sum;
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot estimate the size of store " + name, e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * An iterator over a range and the position of the data it reads.
   *
   * @param iterator the entries
   * @param position what they reflect
   */
  record Scan(KeyValueIterator<Bytes, byte[]> iterator, Position position) {}

  /**
   * A scan of committed data only, or with the buffer overlaid. Holds the lifecycle read lock until
   * the iterator is registered, so a concurrent close closes it rather than freeing RocksDB under
   * its first seek.
   */
  Scan scan(KeyRange range, boolean forward, boolean committedOnly) {
    lifecycle.readLock().lock();
    try {
      TreeMap<Bytes, byte[]> overlay = new TreeMap<>();
      RocksIterator dbIterator;
      Position seen;
      batchLock.lock();
      try {
        ensureOpen();
        if (!committedOnly) {
          buffer.copyRange(range, overlay);
        }
        seen = (committedOnly ? committedPosition : position).copy();
        if (range.isEmpty()) {
          return new Scan(MergedIterator.empty(), seen);
        }
        dbIterator = rocks.db.newIterator(rocks.data);
      } finally {
        batchLock.unlock();
      }
      MergedIterator it =
          new MergedIterator(dbIterator, range, forward, overlay, openIterators::remove);
      openIterators.add(it);
      return new Scan(it, seen);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------- IQv2

  @Override
  public <R> QueryResult<R> query(Query<R> query, PositionBound bound, QueryConfig config) {
    return StoreQueries.query(this, query, bound, config);
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
    return cut(parent, Map.of(), Map.of(), null);
  }

  @Override
  public Snapshot snapshot(
      Map<TopicPartition, Long> through, Map<TopicPartition, Long> ends, Instant asOf) {
    return cut(taskDir.resolve(SNAPSHOTS_DIR).resolve(name), through, ends, asOf);
  }

  @Override
  public Map<TopicPartition, Long> appliedOffsets() {
    Map<TopicPartition, Long> applied = new HashMap<>(committedOffsets());
    restoredThrough.forEach((tp, offset) -> applied.merge(tp, offset, Math::max));
    return applied;
  }

  @Override
  public Optional<Instant> dataAsOf() {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      return dirty ? Optional.empty() : StoreMeta.dataAsOf(rocks.db, rocks.meta);
    } catch (RocksDBException e) {
      throw new ProcessorStateException("cannot read the metadata of store " + name, e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * Cuts a snapshot; with {@code asOf}, its manifest's {@code dataAsOf} is at least that, if the
   * data holds every record through {@code through} (checked under the lock the cut holds, so that
   * a store reopened meanwhile, whose applied offsets started over, is not vouched for).
   */
  private Snapshot cut(
      Path parent,
      Map<TopicPartition, Long> through,
      Map<TopicPartition, Long> ends,
      Instant asOf) {
    lifecycle.readLock().lock();
    try {
      if (!open) {
        throw new RetriableBackboneException(
            "STORE_CLOSED",
            "store " + name + " of task " + taskId + " is not open; ask again once it runs");
      }
      if (outcomeUnknown) {
        throw new RetriableBackboneException(
            "SNAPSHOT_UNAVAILABLE",
            "store "
                + name
                + " of task "
                + taskId
                + " waits for the outcome of an exactly-once transaction whose commit did not"
                + " return; ask again once Kafka Streams retried or closed the task");
      }
      Instant attested = null;
      Map<TopicPartition, Long> recordsBelow = Map.of();
      if (asOf != null && !through.isEmpty() && SnapshotStore.covers(appliedOffsets(), through)) {
        attested = asOf;
        recordsBelow = ends;
      }
      return snapshotFiles.cut(this, rocks.db, parent, attested, recordsBelow);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public void install(Path snapshotDirectory, Duration changelogDeleteRetention) {
    install(snapshotDirectory, changelogDeleteRetention, true);
  }

  private void install(Path snapshotDirectory, Duration changelogDeleteRetention, boolean crcs) {
    SnapshotManifest manifest =
        snapshotFiles.verify(snapshotDirectory, applicationId, taskId, name, crcs);
    SnapshotAge.check(manifest, snapshotDirectory, changelogDeleteRetention, Instant.now());
    lifecycle.writeLock().lock();
    try {
      requireInitializing(snapshotDirectory);
      new SnapshotInstall(name, taskId, snapshotFiles, swap)
          .run(snapshotDirectory, manifest, this::closeDb, this::openDb);
      restoreFromCoveredOffsets(manifest);
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  /**
   * After an install: where the manifest says the data holds every record through a later offset
   * than its committed one ({@link SnapshotManifest#recordsThrough}: only transaction markers or
   * aborted records in between), that is the committed offset Kafka Streams reads, so its restore
   * starts after them, even once retention deleted them.
   */
  private void restoreFromCoveredOffsets(SnapshotManifest manifest) {
    Map<TopicPartition, Long> later = new HashMap<>();
    for (SnapshotManifest.ChangelogOffset o : manifest.recordsThrough()) {
      Long committed = manifest.offsetOf(o.topic(), o.partition()).orElse(null);
      if (committed != null && o.offset() > committed) {
        later.put(new TopicPartition(o.topic(), o.partition()), o.offset());
      }
    }
    if (later.isEmpty()) {
      return;
    }
    try (WriteBatch batch = new WriteBatch();
        WriteOptions sync = new WriteOptions().setSync(true)) {
      StoreMeta.addOffsets(batch, rocks.meta, later);
      rocks.db.write(sync, batch);
    } catch (RocksDBException e) {
      throw new FatalBackboneException(
          "SNAPSHOT_INSTALL_FAILED",
          "store "
              + name
              + " of task "
              + taskId
              + " installed a snapshot but could not record the offsets its records reach "
              + later
              + ": "
              + e.getMessage(),
          e);
    }
    LOG.info(
        "store {} of task {}: the snapshot holds every changelog record through {}; restoring"
            + " from there",
        name,
        taskId,
        later);
  }

  /**
   * An install replaces the data under Kafka Streams' feet, so it is allowed only while the store
   * initializes: open, nothing buffered, and before Kafka Streams read its committed offset (it
   * then restores from the snapshot's). The caller holds the lifecycle write lock.
   */
  private void requireInitializing(Path snapshotDirectory) {
    String problem =
        !open
            ? "the store is not open"
            : offsetsRead
                ? "Kafka Streams has already read the store's committed offset and would not"
                    + " restore from the snapshot's"
                : !isBufferEmpty() ? "the store holds uncommitted writes" : null;
    if (problem != null) {
      throw new FatalBackboneException(
          "SNAPSHOT_INSTALL_REFUSED",
          "refusing to install snapshot "
              + snapshotDirectory
              + " into store "
              + name
              + " of task "
              + taskId
              + ": "
              + problem
              + ". A snapshot is installed while the store initializes, inside init(), before"
              + " Kafka Streams asks its committed offset.");
    }
  }

  private boolean isBufferEmpty() {
    batchLock.lock();
    try {
      return buffer.isEmpty();
    } finally {
      batchLock.unlock();
    }
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void close() {
    serving.ifPresent(s -> s.storeClosed(taskId, name, root));
    registry.ifPresent(r -> r.unregister(this));
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
    ScheduledFuture<?> warm = warming;
    if (warm != null) {
      warm.cancel(false);
    }
    batchLock.lock();
    try {
      open = false;
      for (MergedIterator it : List.copyOf(openIterators)) {
        it.close();
      }
      openIterators.clear();
      buffer.clear();
      outcomeUnknown = false;
      rocks.close();
      rocks = null;
    } finally {
      batchLock.unlock();
    }
  }

  /**
   * Checksums the live SST files that the snapshot cache lacks, off the stream thread ({@link
   * SnapshotFiles#warm}): the list is read under the lifecycle lock, the files outside it.
   */
  void warmChecksums() {
    Map<String, Long> live = new HashMap<>();
    long epoch;
    Path dir;
    lifecycle.readLock().lock();
    try {
      if (!open) {
        return;
      }
      epoch = snapshotFiles.cacheEpoch();
      dir = dbDir;
      for (LiveFileMetaData f : rocks.db.getLiveFilesMetaData()) {
        String file = f.fileName();
        live.put(file.startsWith("/") ? file.substring(1) : file, f.size());
      }
    } catch (RuntimeException e) {
      LOG.debug("store {} of task {}: no live file list to checksum", name, taskId, e);
      return;
    } finally {
      lifecycle.readLock().unlock();
    }
    try {
      snapshotFiles.warm(epoch, dir, live);
    } catch (RuntimeException e) {
      LOG.debug("store {} of task {}: checksumming its files failed", name, taskId, e);
    }
  }

  /** Whether the checksum of that SST file is computed, for tests. */
  boolean hasChecksumOf(String file, long size) {
    return snapshotFiles.hasChecksumOf(file, size);
  }

  void ensureOpen() {
    if (!open) {
      throw new InvalidStateStoreException("store " + name + " is currently closed");
    }
  }

  private static void requireKey(Bytes key) {
    if (key == null) {
      throw new NullPointerException("a key must not be null");
    }
  }
}
