package dev.backbone.store;

import java.io.File;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.Sensor.RecordingLevel;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.StreamsMetrics;
import org.apache.kafka.streams.processor.CommitCallback;
import org.apache.kafka.streams.processor.StateRestoreCallback;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/** A StateStoreContext for unit tests: a task directory, configs, and settable record metadata. */
public final class TestStoreContext implements StateStoreContext {
  final Path taskDir;
  final TaskId taskId;
  public final Map<String, Object> configs = new HashMap<>();
  StateRestoreCallback restoreCallback;
  RecordMetadata recordMetadata;

  /** A real metrics registry, as a stream thread's; stores add their sensors to it. */
  final Metrics registry = new Metrics();

  private final StreamsMetrics streamsMetrics =
      new StreamsMetrics() {
        @Override
        public Map<MetricName, ? extends Metric> metrics() {
          return registry.metrics();
        }

        @Override
        public Sensor addLatencyRateTotalSensor(
            String scope, String entity, String operation, RecordingLevel level, String... tags) {
          throw new UnsupportedOperationException("not used by Backbone stores");
        }

        @Override
        public Sensor addRateTotalSensor(
            String scope, String entity, String operation, RecordingLevel level, String... tags) {
          throw new UnsupportedOperationException("not used by Backbone stores");
        }

        @Override
        public Sensor addSensor(String name, RecordingLevel level) {
          return registry.sensor(name, level);
        }

        @Override
        public Sensor addSensor(String name, RecordingLevel level, Sensor... parents) {
          return registry.sensor(name, level, parents);
        }

        @Override
        public void removeSensor(Sensor sensor) {
          registry.removeSensor(sensor.name());
        }
      };

  /** The node's registry of open stores, passed in the configs as a node passes it. */
  final SnapshotStores stores = new SnapshotStores();

  /** The registry the context passes to its stores. */
  public SnapshotStores stores() {
    return stores;
  }

  /** A task's context with the settings Backbone stores need ({@link BackboneStores}). */
  public TestStoreContext(Path taskDir, TaskId taskId, String guarantee) {
    this.taskDir = taskDir;
    this.taskId = taskId;
    configs.put(StreamsConfig.APPLICATION_ID_CONFIG, "app");
    configs.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    configs.putAll(BackboneStores.streamsSettings());
    configs.put(SnapshotStores.CONFIG, stores);
  }

  void at(String topic, int partition, long offset) {
    recordMetadata =
        new RecordMetadata() {
          @Override
          public String topic() {
            return topic;
          }

          @Override
          public int partition() {
            return partition;
          }

          @Override
          public long offset() {
            return offset;
          }
        };
  }

  @Override
  public String applicationId() {
    return "app";
  }

  @Override
  public TaskId taskId() {
    return taskId;
  }

  @Override
  public Optional<RecordMetadata> recordMetadata() {
    return Optional.ofNullable(recordMetadata);
  }

  @Override
  public Serde<?> keySerde() {
    return Serdes.Bytes();
  }

  @Override
  public Serde<?> valueSerde() {
    return Serdes.ByteArray();
  }

  @Override
  public File stateDir() {
    return taskDir.toFile();
  }

  @Override
  public StreamsMetrics metrics() {
    return streamsMetrics;
  }

  /** The restore callback the store registered, as Kafka Streams would call it. */
  public StateRestoreCallback restoreCallback() {
    return restoreCallback;
  }

  @Override
  public void register(StateStore store, StateRestoreCallback callback) {
    this.restoreCallback = callback;
  }

  @Override
  public void register(StateStore store, StateRestoreCallback callback, CommitCallback onCommit) {
    this.restoreCallback = callback;
  }

  @Override
  public Map<String, Object> appConfigs() {
    return configs;
  }

  @Override
  public Map<String, Object> appConfigsWithPrefix(String prefix) {
    Map<String, Object> out = new HashMap<>();
    configs.forEach(
        (k, v) -> {
          if (k.startsWith(prefix)) {
            out.put(k.substring(prefix.length()), v);
          }
        });
    return out;
  }
}
