package dev.backbone.bench.bootstrap;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.StateRestoreListener;

/** Times Kafka Streams' restore of one changelog partition, start to end, and counts it. */
final class StockRestoreListener implements StateRestoreListener {
  private final TopicPartition changelog;
  private volatile long startNanos = -1;
  private volatile long endNanos = -1;
  private volatile long restored;

  StockRestoreListener(TopicPartition changelog) {
    this.changelog = changelog;
  }

  @Override
  public void onRestoreStart(TopicPartition tp, String store, long startOffset, long endOffset) {
    if (tp.equals(changelog)) {
      startNanos = System.nanoTime();
    }
  }

  @Override
  public void onBatchRestored(TopicPartition tp, String store, long batchEndOffset, long n) {}

  @Override
  public void onRestoreEnd(TopicPartition tp, String store, long totalRestored) {
    if (tp.equals(changelog)) {
      restored = totalRestored;
      endNanos = System.nanoTime();
    }
  }

  boolean ended() {
    return endNanos > 0;
  }

  double seconds() {
    return (endNanos - startNanos) / 1e9;
  }

  long restored() {
    return restored;
  }
}
