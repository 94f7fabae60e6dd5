package dev.backbone.server.internals;

import dev.backbone.routing.Membership;
import dev.backbone.routing.RoutedMember;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingIndex;
import dev.backbone.routing.TaskRoute;
import dev.backbone.server.QueryableStore;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Key ownership from this node's copy of the published routing table: the key's task is the
 * partition the producer's default partitioner picks among the store subtopology's tasks, and the
 * table names the processes running it; the membership names their nodes and endpoints.
 */
final class RoutingTableOwnerLookup implements KeyOwnerLookup {
  private final LocalNode node;

  RoutingTableOwnerLookup(LocalNode node) {
    this.node = node;
  }

  @Override
  public <K> KeyOwner ownerOf(QueryableStore<K, ?> store, K key) {
    Routed routed = routed(store);
    byte[] serialized =
        store
            .keySerializer()
            .serialize(routed.stage().topology().sourceTopicOf(routed.subtopology()), key);
    TaskId task =
        routed
            .table()
            .taskOf(routed.subtopology(), serialized)
            .orElseThrow(() -> noTasks(store, routed));
    return owner(routed, task);
  }

  @Override
  public <K> byte[] serializedKey(QueryableStore<K, ?> store, K key) {
    Routed routed = routed(store);
    return store
        .keySerializer()
        .serialize(routed.stage().topology().sourceTopicOf(routed.subtopology()), key);
  }

  @Override
  public KeyOwner ownerOfPartition(QueryableStore<?, ?> store, int partition) {
    Routed routed = routed(store);
    int count = count(store, routed);
    if (partition < 0 || partition >= count) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_REQUEST,
          "Store '"
              + store.storeName()
              + "' has partitions 0.."
              + (count - 1)
              + " (routing table generation "
              + routed.table().table().generation()
              + "), not "
              + partition
              + ".");
    }
    return owner(routed, new TaskId(routed.subtopology(), partition));
  }

  @Override
  public int partitionCount(QueryableStore<?, ?> store) {
    Routed routed = routed(store);
    return count(store, routed);
  }

  private static int count(QueryableStore<?, ?> store, Routed routed) {
    Integer count = routed.table().partitionCounts().get(routed.subtopology());
    if (count == null) {
      throw noTasks(store, routed);
    }
    return count;
  }

  private Routed routed(QueryableStore<?, ?> store) {
    RunningStage stage =
        node.stage(store.stageName())
            .orElseThrow(() -> KeyReadRouter.rebalancing(store, "its stage has not started yet"));
    RoutingCache cache =
        node.routing(store.stageName())
            .orElseThrow(
                () -> KeyReadRouter.rebalancing(store, "this node has no routing for its stage"));
    if (!cache.applicationId().equals(stage.topology().applicationId())) {
      // A rescale switched this node to another generation between the two lookups above.
      throw KeyReadRouter.rebalancing(
          store, "this node is switching its stage to another generation (a rescale)");
    }
    RoutingIndex table = cache.index();
    if (table.table().tasks().isEmpty()) {
      throw KeyReadRouter.rebalancing(store, "no routing table has been published yet");
    }
    OptionalInt subtopology = stage.topology().subtopologyOf(store.storeName());
    if (subtopology.isEmpty()) {
      throw new IllegalStateException(
          "store '" + store.storeName() + "' is in no subtopology of stage " + store.stageName());
    }
    return new Routed(stage, table, cache.membership(), subtopology.getAsInt());
  }

  private static RuntimeException noTasks(QueryableStore<?, ?> store, Routed routed) {
    return KeyReadRouter.rebalancing(
        store,
        "routing table generation "
            + routed.table().table().generation()
            + " has no task of subtopology "
            + routed.subtopology());
  }

  private static KeyOwner owner(Routed routed, TaskId task) {
    RoutingIndex table = routed.table();
    TaskRoute route =
        table
            .route(task)
            .orElseThrow(
                () ->
                    HttpErrors.retriable(
                        HttpErrors.REBALANCING,
                        "Routing table generation "
                            + table.table().generation()
                            + " has no route for task "
                            + task
                            + "; retry after the Retry-After delay."));
    Membership membership = routed.membership();
    return new KeyOwner(
        task,
        table.table().generation(),
        route.active().map(p -> replica(table, membership, p)),
        route.standbys().stream().map(p -> replica(table, membership, p)).toList(),
        routed.stage().topology().applicationId());
  }

  /** One consistent look at the routing of a store's stage. */
  private record Routed(
      RunningStage stage, RoutingIndex table, Membership membership, int subtopology) {}

  private static KeyOwner.Replica replica(RoutingIndex table, Membership membership, UUID process) {
    RoutedMember routed =
        table.member(process).orElse(new RoutedMember(process, process.toString(), ""));
    Membership.ResolvedMember resolved = membership.resolve(routed);
    return new KeyOwner.Replica(
        resolved.nodeId(),
        resolved.endpoint().flatMap(RoutingTableOwnerLookup::hostInfo),
        resolved.state());
  }

  private static Optional<HostInfo> hostInfo(String endpoint) {
    int colon = endpoint.lastIndexOf(':');
    if (colon <= 0) {
      return Optional.empty();
    }
    try {
      String host = endpoint.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      return Optional.of(new HostInfo(host, Integer.parseInt(endpoint.substring(colon + 1))));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
