package dev.backbone.store;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.TaskId;

/**
 * A store that can cut a consistent snapshot of itself and be opened from one. Implemented by every
 * Backbone store; found by (application, task, store) in its node's {@link SnapshotStores}.
 *
 * <p>Thread-safety: {@link #snapshot} and {@link #committedOffsets} may be called from any thread
 * while the stream thread writes; {@link #install} must be called by the thread that owns the store
 * (inside {@code init()} or between commits), never concurrently with writes.
 */
public interface SnapshotStore {

  /** The store's name. */
  String name();

  /** The application id of the Kafka Streams application the store belongs to. */
  String applicationId();

  /** The task the store belongs to. */
  TaskId taskId();

  /** The committed offset of every changelog partition, as stored inside RocksDB. */
  Map<TopicPartition, Long> committedOffsets();

  /**
   * Cuts a snapshot into a new directory under {@code parent}: a RocksDB checkpoint (memtable
   * flush, then hard links of the immutable files) and its manifest, written last. Concurrent
   * writes continue; the snapshot holds the last commit before the cut.
   *
   * @param parent where to create the snapshot directory; must be on the store's file system for
   *     hard links (otherwise files are copied)
   * @return the complete snapshot
   * @throws dev.backbone.errors.BackboneException {@code STORE_CLOSED} if the store is not open,
   *     {@code SNAPSHOT_FAILED} if RocksDB or the file system refused
   */
  Snapshot snapshot(Path parent);

  /**
   * The changelog offsets through which the data holds every record right now: the committed ones,
   * or further where records were restored since the last commit (a standby restores continuously
   * and commits now and then). A snapshot cut after this call holds at least these records.
   */
  Map<TopicPartition, Long> appliedOffsets();

  /** Whether {@code applied} offsets hold every record through {@code through}, per partition. */
  static boolean covers(Map<TopicPartition, Long> applied, Map<TopicPartition, Long> through) {
    return through.entrySet().stream()
        .allMatch(e -> applied.getOrDefault(e.getKey(), -1L) >= e.getValue());
  }

  /**
   * When the data was last known current with its committed offsets: the time of its last commit of
   * processing writes (no changelog record after those offsets had been written then); empty if it
   * never committed any, e.g. a standby that only restored.
   */
  Optional<Instant> dataAsOf();

  /**
   * Cuts a snapshot into the store's own snapshot directory, vouching for its freshness: the caller
   * established that every changelog record written before {@code asOf} is at or below {@code
   * through}. If the data still holds every record through {@code through} when cut, the manifest's
   * {@code dataAsOf} is at least {@code asOf}; otherwise it is the store's own.
   */
  default Snapshot snapshot(Map<TopicPartition, Long> through, Instant asOf) {
    return snapshot(through, Map.of(), asOf);
  }

  /**
   * As {@link #snapshot(Map, Instant)}; the caller also established that no record lies between
   * {@code through} and {@code ends} (the changelog's end offsets, read before {@code through}
   * was): if the data holds every record through {@code through}, the manifest's {@code
   * recordsThrough} says it holds every record below {@code ends} (the offsets between are
   * transaction markers or aborted records), so that an install restores from there.
   */
  Snapshot snapshot(
      Map<TopicPartition, Long> through, Map<TopicPartition, Long> ends, Instant asOf);

  /**
   * Cuts a snapshot into the store's own snapshot directory ({@code <state dir>/<app>/<task>/
   * backbone-snapshots/<store>/}).
   */
  Snapshot snapshot();

  /**
   * Replaces the store's contents with a snapshot: verifies the manifest (format version, this
   * application, task and store) and every file (presence, size, checksum) and that its data is
   * younger than the changelog's {@code delete.retention.ms}, then reopens the store from a copy of
   * it. Allowed only while the store initializes (inside {@code init()}, before Kafka Streams asks
   * its committed offset, which is then the snapshot's). On any failure the store keeps its old
   * data and stays as it was; a crash half-way is finished or undone when the store next opens.
   *
   * @param snapshotDirectory a complete snapshot
   * @param changelogDeleteRetention the changelog topic's {@code delete.retention.ms}
   * @throws dev.backbone.errors.FatalBackboneException {@code SNAPSHOT_INVALID} naming the problem
   *     and the file, {@code SNAPSHOT_TOO_OLD}, {@code SNAPSHOT_INSTALL_REFUSED} outside
   *     initialization, {@code SNAPSHOT_INSTALL_FAILED} if the file system failed
   */
  void install(Path snapshotDirectory, Duration changelogDeleteRetention);
}
