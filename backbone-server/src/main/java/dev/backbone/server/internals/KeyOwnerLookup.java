package dev.backbone.server.internals;

import dev.backbone.server.QueryableStore;

/**
 * Answers "which node owns key K of store S right now". The only question key routing asks, kept
 * behind this interface so that the read path does not depend on where ownership comes from (today
 * Backbone's published routing table, see {@link RoutingTableOwnerLookup}).
 */
interface KeyOwnerLookup {
  /**
   * The owner of a key.
   *
   * @throws dev.backbone.errors.RetriableBackboneException {@code REBALANCING} when the owner is
   *     unknown right now
   */
  <K> KeyOwner ownerOf(QueryableStore<K, ?> store, K key);

  /**
   * The owner of one partition (task) of a store.
   *
   * @throws dev.backbone.errors.RetriableBackboneException {@code REBALANCING} when the owner is
   *     unknown right now
   */
  KeyOwner ownerOfPartition(QueryableStore<?, ?> store, int partition);

  /**
   * How many partitions (tasks) the store has by the current routing table.
   *
   * @throws dev.backbone.errors.RetriableBackboneException {@code REBALANCING} when no table names
   *     the store's tasks yet
   */
  int partitionCount(QueryableStore<?, ?> store);

  /**
   * A key as the producer serialized it for the store's input topic: the bytes that decide its
   * partition, and in whose order the store keeps its keys.
   */
  <K> byte[] serializedKey(QueryableStore<K, ?> store, K key);
}
