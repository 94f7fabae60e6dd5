package dev.backbone.store;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.TaskId;

/**
 * Which tasks of one Kafka Streams instance are active and running right now, with the stores they
 * hold: what a read must know to be answered as current, without {@code KafkaStreams#query}'s walk
 * over every task of every thread under the state updater's locks (78 % of a node's lock waits
 * under a read load, docs/benchmarks.md).
 *
 * <p><b>What must hold.</b> A task is {@linkplain #serving serving} exactly while Kafka Streams
 * runs it as an active task: from the moment its processors are initialized until the moment they
 * are closed. Kafka Streams (4.4.0) initializes a task's processors in one place only, {@code
 * StreamTask#completeRestoration} ({@code initializeTopology}), as the task leaves {@code
 * RESTORING} for {@code RUNNING}, its stores restored; and closes them in one place only, {@code
 * StreamTask#suspend} ({@code closeTopology}), as it leaves {@code RUNNING}. A task cannot be
 * closed or recycled into a standby without being suspended first ({@code StreamTask#close} and
 * {@code #prepareRecycle} refuse any other state), and a standby task has no processors at all. So
 * a replica recycled from active to standby, whose store Kafka Streams keeps open, stops serving
 * before it becomes a standby; a task corrupted and revived ({@code
 * TaskManager#closeDirtyAndRevive}) stops serving before it is wiped and serves again only after
 * its new restore. {@link ServingTaskWrapper}, a {@code ProcessorWrapper} (KIP-1112), sees both
 * events on every processor of the topology; it takes effect only in a topology built with {@link
 * BackboneStores#topologyConfig}.
 *
 * <p>Two safeguards beyond that: a store (re)opened for a task ends that task's serving (a store
 * opens only while its task is being created or revived, never while its processors run), so even a
 * missed close cannot let a reopened replica serve; and a reader compares the {@link Serving} it
 * read with before and after its read ({@link Serving#stillCurrent()}), so a read that overlaps a
 * transition is not presented as current. Kafka Streams' {@code requireActive} also refuses any
 * task of a thread that is not {@code RUNNING}, i.e. during a rebalance; this index does not: under
 * cooperative rebalancing a task the thread keeps goes on processing through the rebalance, and a
 * task it gives up is suspended, so stops serving, before its partitions are handed to their new
 * owner.
 *
 * <p>One instance per Kafka Streams instance (task ids repeat across applications), handed to the
 * wrapper and the stores through the application's configuration under {@value #CONFIG}. Updated by
 * stream threads, read by request threads.
 */
public final class ServingTasks {
  /** Configuration key under which an application's wrapper and stores find their index. */
  public static final String CONFIG = "dev.backbone.store.serving.tasks";

  private final Map<TaskId, TaskRun> serving = new ConcurrentHashMap<>();
  private final Map<StoreKey, Registered> stores = new ConcurrentHashMap<>();

  /** The index of an application's configuration, if it was given one. */
  public static Optional<ServingTasks> in(Map<String, Object> appConfigs) {
    return appConfigs.get(CONFIG) instanceof ServingTasks tasks
        ? Optional.of(tasks)
        : Optional.empty();
  }

  /**
   * The task of {@code taskId} with its store {@code storeName}, if the task is active and running
   * here right now and the store is a Backbone store; empty otherwise (the caller then asks Kafka
   * Streams).
   */
  public Optional<Serving> serving(TaskId taskId, String storeName) {
    TaskRun run = serving.get(taskId);
    if (run == null) {
      return Optional.empty();
    }
    Registered store = stores.get(new StoreKey(taskId, storeName));
    return store == null ? Optional.empty() : Optional.of(new Serving(run, storeName, store));
  }

  /** A processor of the task was initialized: the task runs as an active task. */
  void processorsInitialized(TaskId taskId) {
    serving.computeIfAbsent(taskId, TaskRun::new);
  }

  /** A processor of the task was closed: the task stops running (it is suspended or closed). */
  void processorsClosed(TaskId taskId) {
    end(taskId);
  }

  /**
   * A store of the task was opened; {@code root} is the outermost store Kafka Streams registered,
   * the one IQv2 queries, and {@code storedValues} whether a {@link StoredValueQuery} on it reaches
   * the Backbone store. Ends the task's serving until its processors are initialized again.
   */
  public void storeOpened(TaskId taskId, String storeName, StateStore root, boolean storedValues) {
    end(taskId);
    stores.put(
        new StoreKey(taskId, storeName),
        new Registered(Objects.requireNonNull(root, "root"), storedValues));
  }

  /** A store of the task was closed; ends the task's serving. */
  public void storeClosed(TaskId taskId, String storeName, StateStore root) {
    end(taskId);
    stores.computeIfPresent(
        new StoreKey(taskId, storeName), (k, now) -> now.root() == root ? null : now);
  }

  private void end(TaskId taskId) {
    TaskRun run = serving.remove(taskId);
    if (run != null) {
      run.ended = true;
    }
  }

  private record StoreKey(TaskId taskId, String storeName) {}

  private record Registered(StateStore root, boolean storedValues) {}

  /** One run of an active task, from its processors' initialization to their close. */
  private static final class TaskRun {
    final TaskId taskId;
    volatile boolean ended;

    TaskRun(TaskId taskId) {
      this.taskId = taskId;
    }
  }

  /** A store of a task seen serving: what to query, and whether that still holds. */
  public final class Serving {
    private final TaskRun run;
    private final String storeName;
    private final Registered store;

    private Serving(TaskRun run, String storeName, Registered store) {
      this.run = run;
      this.storeName = storeName;
      this.store = store;
    }

    /** The store to query: Kafka Streams' outermost layer, which applies the store's serdes. */
    public StateStore store() {
      return store.root();
    }

    /**
     * Whether the store answers a {@link StoredValueQuery}: the outermost layer reaches the
     * Backbone store through Kafka Streams' wrapping layers alone, which pass such a query down,
     * and not through a format adapter (a plain store under a DSL timestamped one), which refuses
     * it; and the store's format is one it answers for (not HEADERS).
     */
    public boolean storedValues() {
      return store.storedValues();
    }

    /**
     * Whether the task is still in the same run and the store the same incarnation: a read made
     * since this was seen was made on the active task, running.
     */
    public boolean stillCurrent() {
      return !run.ended
          && serving.get(run.taskId) == run
          && stores.get(new StoreKey(run.taskId, storeName)) == store;
    }
  }
}
