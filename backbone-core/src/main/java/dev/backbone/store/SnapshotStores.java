package dev.backbone.store;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.kafka.streams.processor.TaskId;

/**
 * The open Backbone stores of this JVM, by (application id, task, store name). A store registers
 * itself when Kafka Streams initializes it and leaves when it closes, so a node can find the store
 * a peer asks a snapshot of.
 */
public final class SnapshotStores {
  private static final ConcurrentMap<Key, SnapshotStore> OPEN = new ConcurrentHashMap<>();

  private SnapshotStores() {}

  /** The open store of a task, if this JVM has it. */
  public static Optional<SnapshotStore> find(String applicationId, TaskId taskId, String store) {
    return Optional.ofNullable(OPEN.get(new Key(applicationId, taskId, store)));
  }

  /** Every open store of this JVM. */
  public static List<SnapshotStore> all() {
    return List.copyOf(OPEN.values());
  }

  /** Called by a store once open. A later registration under the same key replaces the former. */
  public static void register(SnapshotStore store) {
    OPEN.put(new Key(store.applicationId(), store.taskId(), store.name()), store);
  }

  /** Called by a store when it closes; removes it only if it is the registered one. */
  public static void unregister(SnapshotStore store) {
    OPEN.remove(new Key(store.applicationId(), store.taskId(), store.name()), store);
  }

  private record Key(String applicationId, TaskId taskId, String store) {}
}
