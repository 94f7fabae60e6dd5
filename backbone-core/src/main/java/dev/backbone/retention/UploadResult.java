package dev.backbone.retention;

import java.time.Duration;

/**
 * What an {@link SnapshotArchive#upload} did.
 *
 * @param snapshot the snapshot as the archive now holds it
 * @param filesSent files sent (the manifest excluded)
 * @param bytesSent their bytes
 * @param filesPresent files the archive held already (sent with an earlier snapshot)
 * @param bytesPresent their bytes
 * @param took how long the upload took
 */
public record UploadResult(
    ArchivedSnapshot snapshot,
    int filesSent,
    long bytesSent,
    int filesPresent,
    long bytesPresent,
    Duration took) {}
