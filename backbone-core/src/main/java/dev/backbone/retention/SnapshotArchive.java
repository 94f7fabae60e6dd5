package dev.backbone.retention;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.store.Snapshot;
import java.nio.file.Path;
import java.util.List;

/**
 * Store snapshots kept outside the cluster, so that a whole-cluster loss recovers.
 *
 * <p>What it promises: a snapshot {@link #list} returns names only files that are in the archive
 * with the size and CRC32C its manifest says (an upload writes the manifest last; retention deletes
 * manifests before files), and {@link #download} returns only a complete copy whose every file was
 * checked against the manifest.
 *
 * <p>How it is meant to be used (one archive per node, shared by its tasks; thread-safe):
 *
 * <ol>
 *   <li>After the snapshot schedule cuts a snapshot of a task's store, the task's active node calls
 *       {@link #upload} with it, then {@link #retainNewest} for the same store. Only the files the
 *       archive lacks are sent (SST files are immutable, so each snapshot sends only the files new
 *       since the previous one). Uploads and retention of one store are meant to come from its
 *       active node, one after the other; a concurrent upload elsewhere is protected by the grace
 *       period ({@link ArchiveSettings#retainGrace()}), which must exceed the longest upload.
 *   <li>A bootstrap that finds no live replica calls {@link #list} for the store, picks the newest
 *       snapshot it may install, and {@link #download}s it next to the store's directory (same file
 *       system, so {@code SnapshotStore.install()} can move it); Kafka Streams then restores only
 *       the changelog after the snapshot's offsets.
 *   <li>A report calls {@link #inventory} for the application.
 * </ol>
 *
 * <p>Failures: {@link RetriableBackboneException} {@code ARCHIVE_UNAVAILABLE} when the archive
 * cannot be reached or answers with an error (repeat the call; an upload sends only what is still
 * missing); {@link FatalBackboneException} for what repeating will not fix ({@code
 * ARCHIVE_FILE_CORRUPT}, {@code ARCHIVE_SNAPSHOT_GONE}, {@code ARCHIVE_SOURCE_INVALID}, {@code
 * ARCHIVE_LOCAL_WRITE_FAILED}). Every message names the archive ({@link #describe()}), the snapshot
 * and the file.
 */
public interface SnapshotArchive extends AutoCloseable {

  /**
   * Uploads a complete local snapshot: first every file the archive lacks (in parallel), each
   * checked against the manifest's size and CRC32C as it is read, then the manifest, byte for byte
   * as in the snapshot's directory. A file is identified by store, name, size and CRC32C, so a file
   * an earlier snapshot of the store sent is not sent again. Idempotent: uploading the same
   * snapshot again sends nothing and writes no second manifest. An upload that fails at any point
   * leaves no manifest, so nothing lists the snapshot; its files are reused by the next upload or
   * deleted by {@link #retainNewest} after the grace period.
   *
   * @param snapshot a snapshot as {@code SnapshotStore.snapshot()} returns it; it must not be
   *     deleted before this returns
   * @return the archived snapshot and what was sent
   */
  UploadResult upload(Snapshot snapshot);

  /**
   * The archived snapshots of one store, newest first (by the manifest's {@code createdAt}): only
   * those whose manifest exists and parses as one of this store.
   *
   * @param applicationId the Kafka Streams {@code application.id}
   * @param taskId the task as {@code TaskId#toString()}, e.g. {@code 0_3}
   * @param storeName the store's name
   */
  List<ArchivedSnapshot> list(String applicationId, String taskId, String storeName);

  /**
   * Downloads an archived snapshot into a new directory under {@code parent}: built in a hidden
   * {@code .tmp-...} directory, every file checked against the manifest's size and CRC32C as it
   * arrives (in parallel, under the configured byte-rate throttle), the manifest written last, then
   * renamed atomically. On any failure nothing is left under {@code parent}.
   *
   * @param snapshot one {@link #list} returned
   * @param parent where the snapshot's directory is created (on the file system of the store that
   *     will install it)
   * @return the local snapshot, ready for {@code SnapshotStore.install()}
   */
  Snapshot download(ArchivedSnapshot snapshot, Path parent);

  /**
   * Keeps the newest {@code keep} snapshots of a store: deletes the older manifests first, then
   * every file no remaining manifest of the store names, except files younger than the grace period
   * (an upload in progress may be about to name them). If a manifest of the store cannot be read
   * (written by a newer Backbone, say), no file is deleted: the files it names are unknown.
   *
   * @param keep how many snapshots to keep, at least 1
   * @return what was deleted
   */
  RetainResult retainNewest(String applicationId, String taskId, String storeName, int keep);

  /**
   * Every store of an application with at least one archived snapshot, with what the archive holds
   * of it, ordered by task and store: for a report.
   *
   * @param applicationId the Kafka Streams {@code application.id}
   */
  List<ArchivedStore> inventory(String applicationId);

  /**
   * Where the archive is, for messages: {@code file:/path} or {@code s3://bucket/prefix (endpoint
   * http://host:port)}.
   */
  String describe();

  /** Stops the archive's transfer threads and releases its client; calls in progress fail. */
  @Override
  void close();
}
