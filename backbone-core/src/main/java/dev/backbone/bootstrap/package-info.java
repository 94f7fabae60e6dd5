/**
 * Cold bootstrap: a replica without usable local state is filled from a snapshot a live peer cuts
 * of the same task's store, then Kafka Streams replays only the changelog after the snapshot's
 * offset.
 *
 * <ul>
 *   <li>{@link dev.backbone.bootstrap.SnapshotLender}: the lending side. Cuts (or reuses) a
 *       snapshot of an open store of this node, serves only the files its manifest lists, and
 *       deletes it once released or expired, holding at most a bounded number at once.
 *   <li>{@link dev.backbone.bootstrap.PeerSnapshotFetcher}: the borrowing side. Copies one peer's
 *       snapshot into a staging directory, files in parallel under one throttle, resuming broken
 *       transfers by byte range, re-fetching a file whose checksum does not match, moving on to the
 *       next peer when one fails; returns only a complete, verified copy.
 * </ul>
 *
 * <p>The HTTP endpoints that expose the lender to peers live in {@code backbone-server}; every one
 * of them requires the cluster secret ({@code backbone.cluster.secret}).
 */
package dev.backbone.bootstrap;
