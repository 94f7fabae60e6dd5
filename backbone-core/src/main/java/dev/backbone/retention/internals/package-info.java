/**
 * The snapshot archive's implementation: {@link
 * dev.backbone.retention.internals.ObjectStoreSnapshotArchive} holds what every backend shares (the
 * key layout, the order of writes and deletes, the checks of every byte; its class comment states
 * what must hold), over a small key-value {@code ArchiveBackend}: {@code LocalDirectoryArchive} (a
 * directory; writes by temporary file, fsync and atomic rename) and {@code S3SnapshotArchive} (the
 * AWS SDK v2 over the JDK's HTTP client; multipart above a threshold, SDK retries with backoff).
 */
package dev.backbone.retention.internals;
