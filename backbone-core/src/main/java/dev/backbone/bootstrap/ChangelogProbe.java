package dev.backbone.bootstrap;

import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * What a lender reads of a store's changelog to vouch that a snapshot is current ({@link
 * SnapshotLender}): its end offsets, and the records a {@code read_committed} reader would get in a
 * range. Implemented by the node with the Kafka clients of its stages.
 *
 * <p>Both may fail with any runtime exception (broker unreachable, timeout); the lender then lends
 * the snapshot with the store's own {@code dataAsOf}.
 */
public interface ChangelogProbe {

  /** The end offset of each partition now: the offset the next record will get. */
  Map<TopicPartition, Long> endOffsets(Set<TopicPartition> partitions);

  /**
   * The offset of the last record a {@code read_committed} reader gets from {@code from} up to (not
   * including) {@code to}, empty if it gets none (only transaction markers and aborted records).
   * Reads until its position reaches {@code to}: an open transaction below it is waited for, up to
   * {@code timeout}.
   *
   * @throws RuntimeException if the range cannot be read to its end within {@code timeout}
   */
  OptionalLong lastRecordBetween(TopicPartition partition, long from, long to, Duration timeout);
}
