package dev.backbone.store.internals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.Avg;
import org.apache.kafka.common.metrics.stats.CumulativeCount;
import org.apache.kafka.common.metrics.stats.CumulativeSum;
import org.apache.kafka.common.metrics.stats.Max;
import org.apache.kafka.common.metrics.stats.Value;
import org.apache.kafka.streams.StreamsMetrics;
import org.apache.kafka.streams.processor.TaskId;

/**
 * What one Backbone store reports through Kafka Streams' own metrics registry (group {@value
 * #GROUP}, tags {@code thread-id}, {@code task-id}, {@code backbone-state-id}), so that they reach
 * {@code /metrics} with every other Kafka Streams metric:
 *
 * <ul>
 *   <li>{@code backbone-commit-latency-avg|max} (ms) and {@code backbone-commit-total}: atomic
 *       writes of a batch with its offsets;
 *   <li>{@code backbone-commit-bytes-avg|max}: uncommitted bytes each such write carried;
 *   <li>{@code backbone-estimated-num-keys}, {@code backbone-live-sst-bytes}: RocksDB's estimates,
 *       read after each commit;
 *   <li>{@code backbone-committed-offset}: the highest changelog offset stored with the data;
 *   <li>{@code backbone-dirty}: 1 once the store is marked dirty (its data is no committed pair:
 *       Kafka Streams found its changelog corrupted); it is emptied and rebuilt when it reopens.
 * </ul>
 *
 * All are recorded at commit (a few per {@code commit.interval.ms}), never per put. Sensors are
 * removed when the store closes.
 */
final class StoreMetrics {
  static final String GROUP = "stream-state-metrics";

  private final StreamsMetrics metrics;
  private final List<Sensor> sensors = new ArrayList<>();
  private final Sensor commitLatency;
  private final Sensor commitBytes;
  private final Sensor estimatedKeys;
  private final Sensor liveSstBytes;
  private final Sensor committedOffset;
  private final Sensor dirty;
  private final Sensor restored;

  private StoreMetrics(StreamsMetrics metrics, String thread, TaskId task, String store) {
    this.metrics = metrics;
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put("thread-id", thread);
    tags.put("task-id", task.toString());
    tags.put("backbone-state-id", store);
    String prefix = "backbone-store." + thread + "." + task + "." + store + ".";
    commitLatency = sensor(prefix + "commit-latency");
    commitLatency.add(
        name("backbone-commit-latency-avg", "Average ms of a commit", tags), new Avg());
    commitLatency.add(
        name("backbone-commit-latency-max", "Longest ms of a commit", tags), new Max());
    commitLatency.add(
        name("backbone-commit-total", "Commits of the store", tags), new CumulativeCount());
    commitBytes = sensor(prefix + "commit-bytes");
    commitBytes.add(
        name("backbone-commit-bytes-avg", "Average uncommitted bytes per commit", tags), new Avg());
    commitBytes.add(
        name("backbone-commit-bytes-max", "Most uncommitted bytes in a commit", tags), new Max());
    estimatedKeys =
        valueSensor(prefix, "backbone-estimated-num-keys", "RocksDB's key estimate", tags);
    liveSstBytes = valueSensor(prefix, "backbone-live-sst-bytes", "Bytes of live SST files", tags);
    committedOffset =
        valueSensor(
            prefix, "backbone-committed-offset", "Changelog offset stored with the data", tags);
    dirty =
        valueSensor(
            prefix, "backbone-dirty", "1 while the store is marked dirty, to be rebuilt", tags);
    restored = sensor(prefix + "restored-records");
    restored.add(
        name(
            "backbone-restored-records-total",
            "Changelog records restored into the store since it opened (after a snapshot install:"
                + " only the tail after the snapshot's offset)",
            tags),
        new CumulativeSum());
  }

  /** A batch of changelog records was restored into the store. */
  void recordRestored(int records) {
    restored.record(records, System.currentTimeMillis());
  }

  /**
   * The metrics of a store, or null when the context has no registry (some test contexts): the
   * store then records nothing.
   */
  static StoreMetrics create(StreamsMetrics metrics, TaskId task, String store) {
    if (metrics == null) {
      return null;
    }
    return new StoreMetrics(metrics, Thread.currentThread().getName(), task, store);
  }

  /** One commit: how long it took, how many uncommitted bytes it carried, the store after it. */
  void recordCommit(
      long nanos, long bytes, long estimatedNumKeys, long sstBytes, long offset, boolean isDirty) {
    long now = System.currentTimeMillis();
    commitLatency.record(nanos / 1_000_000.0, now);
    commitBytes.record(bytes, now);
    estimatedKeys.record(estimatedNumKeys, now);
    liveSstBytes.record(sstBytes, now);
    if (offset >= 0) {
      committedOffset.record(offset, now);
    }
    dirty.record(isDirty ? 1 : 0, now);
  }

  /** The store was marked dirty; it is rebuilt when it next opens. */
  void recordDirty() {
    dirty.record(1, System.currentTimeMillis());
  }

  /** Removes every sensor of the store. */
  void close() {
    sensors.forEach(metrics::removeSensor);
    sensors.clear();
  }

  private Sensor sensor(String name) {
    Sensor sensor = metrics.addSensor(name, Sensor.RecordingLevel.INFO);
    sensors.add(sensor);
    return sensor;
  }

  private Sensor valueSensor(
      String prefix, String metric, String description, Map<String, String> tags) {
    Sensor sensor = sensor(prefix + metric);
    sensor.add(name(metric, description, tags), new Value());
    return sensor;
  }

  private static MetricName name(String name, String description, Map<String, String> tags) {
    return new MetricName(name, GROUP, description, tags);
  }
}
