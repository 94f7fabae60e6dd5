package dev.backbone.server.internals;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.processor.TaskId;

/**
 * Whether each local store partition of one stage is caught up, from Kafka Streams' own account:
 * the one question Kafka Streams' IQv2 does not answer.
 *
 * <p><b>Why it is needed.</b> {@code KafkaStreams#query} with {@code requireActive()} answers from
 * any active task of a stream thread whose state is {@code RUNNING}; it iterates {@code
 * StreamThread#readyOnlyAllTasks()}, which is {@code TaskManager#readOnlyAllTasks()}: the tasks the
 * thread runs <em>and</em> the tasks in its state updater ({@code DefaultStateUpdater#tasks()},
 * including tasks still queued to be added). A thread is {@code PARTITIONS_ASSIGNED}, not {@code
 * RUNNING}, while its tasks restore after a rebalance, but a task corrupted while the thread runs
 * ({@code TaskManager#handleCorruption} -> {@code closeDirtyAndRevive}: closed dirty, under
 * exactly-once its state directory wiped, then re-initialised and handed to the state updater) is
 * restored with the thread still {@code RUNNING} (under exactly-once {@code StreamThread} enforces
 * a rebalance afterwards, which only ends the exposure once the group has rejoined). So an active
 * "query accepted" may read an empty or half-restored store: a false "not found", or an old value.
 *
 * <p><b>What must hold.</b> A partition is {@linkplain Replica#caughtUp() caught up} only after its
 * restore ended in the <em>current incarnation</em> of its store (the store object Kafka Streams
 * opened last), and a read is fresh only if the same caught-up incarnation was current both before
 * and after the query. Two public hooks give the events, in an order Kafka Streams guarantees:
 *
 * <ol>
 *   <li><b>Store opened</b>: the store's metrics appear. {@code MeteredKeyValueStore#init}
 *       registers them (the INFO gauge {@value #OPEN_MARKER_METRIC}, group {@value
 *       #STORE_METRIC_GROUP}) on the stream thread in {@code StreamTask#initializeIfNeeded}, before
 *       {@code TaskManager#addTaskToStateUpdater} makes the task queryable; a {@link
 *       MetricsReporter} ({@link StoreLifecycleReporter}) sees it synchronously. The store is not
 *       caught up.
 *   <li><b>Restore started</b>: {@link #onRestoreStart}, from {@code
 *       StoreChangelogReader#prepareChangelogs} for every changelog partition of an active task,
 *       even one with nothing to restore. Not caught up; the lag is known from here.
 *   <li><b>Restore ended</b>: {@link #onRestoreEnd}, from {@code StoreChangelogReader
 *       #restoreChangelog} once the store holds its changelog up to the end offset read when the
 *       restore started; nothing else writes that changelog until the task processes again. Caught
 *       up.
 *   <li><b>Store closed</b>: {@code MeteredKeyValueStore#close} closes the store, then removes its
 *       metrics ({@code StreamsMetricsImpl#removeAllStoreLevelSensorsAndMetrics}); or {@link
 *       #onRestoreSuspended} when the task leaves mid-restore. Not caught up.
 * </ol>
 *
 * Because step 1 happens before the task can be queried, a query that read a newer incarnation
 * finds a changed {@link Replica} when it looks again afterwards; the before/after comparison in
 * {@code KeyReadRouter} relies on exactly this. A store without a changelog never gets step 3 and
 * never answers a non-stale read; a store not wrapped by Kafka Streams' metered layer has no step 1
 * and is tracked only from step 2.
 *
 * <p>Events come from stream threads, state updater threads and HTTP threads; each is a single
 * atomic update of one partition's entry. Nothing here is JVM-global: each stage of each node has
 * its own tracker, handed to its reporter through the stage's configuration under {@value
 * #TRACKER_CONFIG}.
 */
public final class RestoreTracker implements StateRestoreListener {
  /** Configuration key under which a stage's reporter finds its tracker object. */
  public static final String TRACKER_CONFIG = "dev.backbone.server.restore.tracker";

  /** The store-level metric whose registration marks a store (re)opened. */
  static final String OPEN_MARKER_METRIC = "num-open-iterators";

  /** Kafka Streams' group of store-level metrics. */
  static final String STORE_METRIC_GROUP = "stream-state-metrics";

  private static final String STORE_TAG_SUFFIX = "-state-id";
  private static final String TASK_TAG = "task-id";

  /** Where a local store partition is in its life. */
  public enum Phase {
    /** Opened (initialised) by Kafka Streams; its restore has not started. */
    OPENED,
    /** Restoring its changelog. */
    RESTORING,
    /** Restored to the end of its changelog; an active answers fresh reads from here. */
    CAUGHT_UP,
    /** Closed, or its restore was suspended because the task left. */
    CLOSED
  }

  /**
   * What this node knows of one store partition.
   *
   * @param incarnation a number that changes whenever the store is opened again
   * @param phase where it is
   * @param position while restoring, the next changelog offset to restore (-1 if unknown)
   * @param endOffset while restoring, the changelog end offset it restores to, exclusive (-1 if
   *     unknown)
   */
  public record Replica(long incarnation, Phase phase, long position, long endOffset) {
    /** Whether an active replica in this state may answer a non-stale read. */
    public boolean caughtUp() {
      return phase == Phase.CAUGHT_UP;
    }

    /** Changelog records still to restore, 0 when caught up, -1 when unknown. */
    public long lag() {
      return switch (phase) {
        case CAUGHT_UP -> 0;
        case RESTORING -> endOffset < 0 || position < 0 ? -1 : Math.max(0, endOffset - position);
        case OPENED, CLOSED -> -1;
      };
    }
  }

  private record StorePartition(String store, int partition) {}

  private final Map<StorePartition, Replica> replicas = new ConcurrentHashMap<>();
  private final AtomicLong incarnations = new AtomicLong();

  /** A tracker that knows no store yet; register it before the stage starts. */
  public RestoreTracker() {}

  /** What this node knows of a store partition; null if Kafka Streams never opened it here. */
  public Replica replica(String store, int partition) {
    return replicas.get(new StorePartition(store, partition));
  }

  /** The store was (re)opened: a new incarnation, not caught up. */
  void storeOpened(String store, int partition) {
    long incarnation = incarnations.incrementAndGet();
    replicas.put(
        new StorePartition(store, partition), new Replica(incarnation, Phase.OPENED, -1, -1));
  }

  /** The store was closed. */
  void storeClosed(String store, int partition) {
    replicas.compute(
        new StorePartition(store, partition),
        (k, r) -> new Replica(incarnationOf(r), Phase.CLOSED, -1, -1));
  }

  @Override
  public void onRestoreStart(
      TopicPartition changelog, String store, long startingOffset, long endingOffset) {
    // startingOffset is the restore consumer's position: the next offset to restore.
    replicas.compute(
        new StorePartition(store, changelog.partition()),
        (k, r) -> new Replica(incarnationOf(r), Phase.RESTORING, startingOffset, endingOffset));
  }

  @Override
  public void onBatchRestored(
      TopicPartition changelog, String store, long batchEndOffset, long numRestored) {
    // batchEndOffset is the last offset restored, so the next one follows it.
    replicas.computeIfPresent(
        new StorePartition(store, changelog.partition()),
        (k, r) ->
            r.phase() == Phase.RESTORING
                ? new Replica(r.incarnation(), Phase.RESTORING, batchEndOffset + 1, r.endOffset())
                : r);
  }

  @Override
  public void onRestoreEnd(TopicPartition changelog, String store, long totalRestored) {
    replicas.compute(
        new StorePartition(store, changelog.partition()),
        (k, r) -> new Replica(incarnationOf(r), Phase.CAUGHT_UP, -1, -1));
  }

  @Override
  public void onRestoreSuspended(TopicPartition changelog, String store, long totalRestored) {
    storeClosed(store, changelog.partition());
  }

  /** A store partition's incarnation, or a fresh one for a store never seen opening. */
  private long incarnationOf(Replica r) {
    return r == null ? incarnations.incrementAndGet() : r.incarnation();
  }

  /**
   * Tells a stage's {@link RestoreTracker} when Kafka Streams opens and closes a store, from the
   * registration and removal of the store's metrics (see the tracker's class comment). Listed in
   * the stage's {@code metric.reporters}; Kafka Streams also instantiates it inside its clients,
   * whose configuration lacks {@value RestoreTracker#TRACKER_CONFIG}: those instances do nothing.
   */
  public static final class StoreLifecycleReporter implements MetricsReporter {
    private volatile RestoreTracker tracker;

    /** Instantiated by Kafka from {@code metric.reporters}. */
    public StoreLifecycleReporter() {}

    @Override
    public void configure(Map<String, ?> configs) {
      Object value = configs.get(TRACKER_CONFIG);
      tracker = value instanceof RestoreTracker t ? t : null;
    }

    @Override
    public void init(List<KafkaMetric> metrics) {
      metrics.forEach(this::metricChange);
    }

    @Override
    public void metricChange(KafkaMetric metric) {
      RestoreTracker t = tracker;
      StoreTags tags = t == null ? null : StoreTags.of(metric);
      if (tags != null) {
        t.storeOpened(tags.store(), tags.partition());
      }
    }

    @Override
    public void metricRemoval(KafkaMetric metric) {
      RestoreTracker t = tracker;
      StoreTags tags = t == null ? null : StoreTags.of(metric);
      if (tags != null) {
        t.storeClosed(tags.store(), tags.partition());
      }
    }

    @Override
    public void close() {
      tracker = null;
    }
  }

  /** The store and partition named by a store-level marker metric. */
  private record StoreTags(String store, int partition) {
    static StoreTags of(KafkaMetric metric) {
      if (!OPEN_MARKER_METRIC.equals(metric.metricName().name())
          || !STORE_METRIC_GROUP.equals(metric.metricName().group())) {
        return null;
      }
      Map<String, String> tags = metric.metricName().tags();
      String task = tags.get(TASK_TAG);
      String store = null;
      for (Map.Entry<String, String> tag : tags.entrySet()) {
        if (tag.getKey().endsWith(STORE_TAG_SUFFIX)) {
          store = tag.getValue();
        }
      }
      if (task == null || store == null) {
        return null;
      }
      try {
        return new StoreTags(Objects.requireNonNull(store), TaskId.parse(task).partition());
      } catch (RuntimeException e) {
        return null;
      }
    }
  }
}
