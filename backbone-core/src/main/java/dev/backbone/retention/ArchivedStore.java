package dev.backbone.retention;

import java.time.Instant;

/**
 * What an archive holds of one store, for a report ({@link SnapshotArchive#inventory}).
 *
 * @param applicationId the store's application
 * @param taskId its task, as {@code TaskId#toString()}
 * @param storeName its name
 * @param snapshots archived snapshots (manifests)
 * @param newest {@code createdAt} of the newest
 * @param files files held (shared by the snapshots that name them)
 * @param bytes bytes held, files and manifests
 */
public record ArchivedStore(
    String applicationId,
    String taskId,
    String storeName,
    int snapshots,
    Instant newest,
    int files,
    long bytes) {}
