/**
 * The implementation of the snapshot store: {@link
 * dev.backbone.store.internals.BackboneKeyValueStore} (lifecycle and commits; its class comment
 * states the invariant), its write buffer, metadata column family, IQv2 queries and committed view,
 * the swap that installs a snapshot, snapshot files and age, the per-thread transaction outcome and
 * the producer that reports it, RocksDB tuning. Uses only Kafka Streams' public API.
 */
package dev.backbone.store.internals;
