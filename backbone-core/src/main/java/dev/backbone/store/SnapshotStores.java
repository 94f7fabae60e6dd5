package dev.backbone.store;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.kafka.streams.processor.TaskId;

/**
 * The open Backbone stores of one node, by (application id, task, store name). A node creates one
 * and passes it to its Kafka Streams instances under {@link #CONFIG}; each store registers itself
 * when Kafka Streams initializes it and leaves when it closes, so the node can find the store a
 * peer asks a snapshot of. Kafka Streams never places an active and a standby of one task on one
 * node, so the key is unique within a node; several nodes in one JVM (the demo, tests) each have
 * their own registry and never see each other's stores.
 */
public final class SnapshotStores {
  /**
   * The Kafka Streams configuration key under which a node passes its registry (the value is the
   * {@link SnapshotStores} object itself). A store of an application without it registers nowhere.
   */
  public static final String CONFIG = "dev.backbone.store.registry";

  private final ConcurrentMap<Key, SnapshotStore> open = new ConcurrentHashMap<>();

  /** An empty registry. */
  public SnapshotStores() {}

  /** The registry passed in a store's application configs, if any. */
  public static Optional<SnapshotStores> in(Map<String, Object> appConfigs) {
    return appConfigs.get(CONFIG) instanceof SnapshotStores stores
        ? Optional.of(stores)
        : Optional.empty();
  }

  /** The open store of a task, if this node has it. */
  public Optional<SnapshotStore> find(String applicationId, TaskId taskId, String store) {
    return Optional.ofNullable(open.get(new Key(applicationId, taskId, store)));
  }

  /** Every open store of this node. */
  public List<SnapshotStore> all() {
    return List.copyOf(open.values());
  }

  /** Called by a store once open. A later registration under the same key replaces the former. */
  public void register(SnapshotStore store) {
    open.put(new Key(store.applicationId(), store.taskId(), store.name()), store);
  }

  /** Called by a store when it closes; removes it only if it is the registered one. */
  public void unregister(SnapshotStore store) {
    open.remove(new Key(store.applicationId(), store.taskId(), store.name()), store);
  }

  private record Key(String applicationId, TaskId taskId, String store) {}
}
