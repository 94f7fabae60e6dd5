package dev.backbone.store;

import java.nio.file.Path;

/**
 * A complete snapshot on local disk: an immutable directory of RocksDB files plus its {@link
 * SnapshotManifest}.
 *
 * @param directory the snapshot directory (holds {@value SnapshotManifest#FILE_NAME})
 * @param manifest what it holds
 */
public record Snapshot(Path directory, SnapshotManifest manifest) {}
