package dev.backbone.retention;

/**
 * What an {@link SnapshotArchive#retainNewest} deleted and kept.
 *
 * @param snapshotsKept snapshots (manifests) left
 * @param snapshotsDeleted manifests deleted
 * @param filesDeleted files deleted (named by no remaining manifest, older than the grace period)
 * @param bytesDeleted their bytes
 * @param filesInGrace files named by no manifest but kept, being younger than the grace period
 * @param filesKeptUnreadable whether file deletion was skipped because a manifest of the store
 *     could not be read (see {@link SnapshotArchive#retainNewest})
 */
public record RetainResult(
    int snapshotsKept,
    int snapshotsDeleted,
    int filesDeleted,
    long bytesDeleted,
    int filesInGrace,
    boolean filesKeptUnreadable) {}
