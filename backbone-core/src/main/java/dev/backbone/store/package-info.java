/**
 * The snapshot store: a RocksDB key-value store for Kafka Streams that manages its own changelog
 * offsets (KIP-1035), holds only committed data, and cuts consistent snapshots of itself ({@link
 * dev.backbone.store.SnapshotStore#snapshot()}) that it or a peer can be opened from ({@link
 * dev.backbone.store.SnapshotStore#install}).
 *
 * <p>Entry points: {@link dev.backbone.store.BackboneStores} for the Processor API and {@code
 * Materialized}, {@link dev.backbone.store.BackboneDslStoreSuppliers} for {@code
 * dsl.store.suppliers.class}, {@link dev.backbone.store.BackboneClientSupplier} for {@code
 * default.client.supplier} (with {@code enable.transactional.statestores}, what exactly-once needs:
 * {@link dev.backbone.store.BackboneStores#streamsSettings()}), {@link
 * dev.backbone.store.SnapshotStores} to find a node's open stores.
 */
package dev.backbone.store;
