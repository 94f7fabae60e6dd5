/**
 * The implementation of the snapshot store: the RocksDB store with its write batch and offsets
 * ({@link dev.backbone.store.internals.BackboneKeyValueStore}, whose class comment states the
 * invariant), the per-thread transaction registry and the producer that reports transactions to it,
 * RocksDB tuning, snapshot files. Uses only Kafka Streams' public API.
 */
package dev.backbone.store.internals;
