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
}
