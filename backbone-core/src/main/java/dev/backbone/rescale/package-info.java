/**
 * Rescale: changing the task count of a running stateful application, its keyed state split or
 * merged by key hash across the new tasks.
 *
 * <ul>
 *   <li>{@link dev.backbone.rescale.SnapshotSplit}: the data step. Reads the data of N source
 *       snapshots (RocksDB checkpoints of one store, one per old task) in key order and writes, per
 *       new task, one SST file holding exactly the keys the producer's default partitioner sends to
 *       that task's partition ({@link dev.backbone.routing.KeyToTask}), ready to be ingested into
 *       the new task's store.
 * </ul>
 */
package dev.backbone.rescale;
