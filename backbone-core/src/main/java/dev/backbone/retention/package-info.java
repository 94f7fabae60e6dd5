/**
 * Retention: keeping a store's state recoverable beyond the life of every node, so that the
 * changelog topics need not hold all of it forever.
 *
 * <p>{@link dev.backbone.retention.SnapshotArchive} keeps store snapshots outside the cluster (a
 * local or shared directory by default, an S3-compatible object store when configured), so that
 * even a whole-cluster loss recovers from the newest archived snapshot plus the changelog's tail.
 * Open one with {@link dev.backbone.retention.SnapshotArchives#open}; the implementation, whose
 * class comment states what must always hold, lives in {@code internals}.
 */
package dev.backbone.retention;
