package dev.backbone.server.internals;

import dev.backbone.server.QueryableStore;

/**
 * Answers "which node owns key K of store S right now". The only question key routing asks, kept
 * behind this interface so that Kafka Streams' own metadata (which needs {@code
 * application.server}, whose host map grows with the cluster) can be replaced by Backbone's routing
 * table without touching the read path.
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
