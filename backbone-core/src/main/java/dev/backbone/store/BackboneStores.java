package dev.backbone.store;

import dev.backbone.store.internals.BackboneKeyValueStore;
import dev.backbone.store.internals.HeadersBackboneKeyValueStore;
import dev.backbone.store.internals.TimestampedBackboneKeyValueStore;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Factories of Backbone stores for the Processor API and for {@code Materialized.as(supplier)}, the
 * counterparts of Kafka Streams' {@code Stores.persistentKeyValueStore}. For the DSL as a whole,
 * set {@code dsl.store.suppliers.class} to {@link BackboneDslStoreSuppliers}.
 *
 * <p>Under {@code exactly_once_v2} the application also needs {@link #streamsSettings()}: Kafka
 * Streams' transactional state stores (KIP-892), so that it commits the stores with every
 * transaction and does not wipe them on a dirty close, and {@link BackboneClientSupplier}, so that
 * a store knows whether the transaction it is committed with really committed. A store refuses to
 * start under exactly-once without the first and fails its first commit without the second, each
 * with a message naming the setting.
 */
public final class BackboneStores {
  /**
   * {@code processing.exception.handler.global.enabled}, deprecated in Kafka 4.4 only because 5.0
   * drops the switch and always behaves as {@code true}.
   */
  @SuppressWarnings("deprecation")
  private static final String GLOBAL_PROCESSING_EXCEPTION_HANDLER_ENABLED =
      StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG;

  private BackboneStores() {}

  /**
   * The Kafka Streams settings Backbone stores rely on: {@code enable.transactional.statestores}
   * {@code = true} and {@code default.client.supplier} {@code =} {@link BackboneClientSupplier}
   * (needed under exactly-once, harmless under at-least-once), and {@code
   * __iq.consistency.offset.vector.enabled__ = true}: every changelog record then carries the
   * position of the data it was written at (two small headers), so that a replica restored from the
   * changelog, or a standby, knows the position of what it holds and answers {@code minPosition}
   * reads. Without it a replica that was restored, not written, has no position for its data.
   */
  public static Map<String, Object> streamsSettings() {
    return Map.of(
        StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG,
        true,
        StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG,
        BackboneClientSupplier.class,
        StreamsConfig.InternalConfig.IQ_CONSISTENCY_OFFSET_VECTOR_ENABLED,
        true);
  }

  /**
   * The configuration to build a topology with ({@code new StreamsBuilder(config)}, {@code new
   * Topology(config)}) so that a Backbone node reads its Backbone stores without {@code
   * KafkaStreams#query}'s walk over every task: it sets {@code processor.wrapper.class} to {@link
   * ServingTaskWrapper}, which must be given when the topology is built (KIP-1112) and tells the
   * node, from Kafka Streams' own task transitions, which tasks are active and running (see {@link
   * ServingTasks}). A topology built without it works as before, its reads go through IQv2.
   *
   * <p>Only the wrapper is taken from here: Kafka Streams replaces the rest of a topology's
   * configuration with the application's own when the {@code KafkaStreams} instance is created
   * ({@code InternalTopologyBuilder#rewriteTopology}), so {@code settings} needs only what the
   * topology's build itself reads (e.g. {@code dsl.store.suppliers.class}); {@code application.id}
   * and {@code bootstrap.servers}, which a {@code StreamsConfig} requires, are filled in if absent,
   * and {@code processing.exception.handler.global.enabled = true} (Kafka 5.0's default, which
   * silences the warning a {@code StreamsConfig} logs without it).
   *
   * @param settings Kafka Streams settings; a {@code processor.wrapper.class} of their own is
   *     refused, as it would be lost
   * @throws IllegalArgumentException if {@code settings} name another processor wrapper
   */
  public static TopologyConfig topologyConfig(Map<?, ?> settings) {
    Map<Object, Object> config = new HashMap<>(settings);
    Object wrapper = config.get(StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG);
    if (wrapper != null
        && !wrapper.equals(ServingTaskWrapper.class)
        && !wrapper.equals(ServingTaskWrapper.class.getName())) {
      throw new IllegalArgumentException(
          StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG
              + " is "
              + wrapper
              + ": Backbone needs its own "
              + ServingTaskWrapper.class.getName()
              + " there; build the topology without it, or without BackboneStores.topologyConfig"
              + " (reads then go through IQv2's task walk).");
    }
    config.put(StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG, ServingTaskWrapper.class);
    config.putIfAbsent(StreamsConfig.APPLICATION_ID_CONFIG, "backbone-topology-build");
    config.putIfAbsent(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "topology-build.invalid:9092");
    // Kafka 5.0's default; without it StreamsConfig warns on every construction, build or not.
    config.putIfAbsent(GLOBAL_PROCESSING_EXCEPTION_HANDLER_ENABLED, true);
    return new TopologyConfig(new StreamsConfig(config));
  }

  /** A persistent key-value store holding plain values. */
  public static KeyValueBytesStoreSupplier persistentKeyValueStore(String name) {
    return new Supplier(name, Format.PLAIN);
  }

  /**
   * A persistent key-value store holding values with their timestamp, as the DSL's timestamped
   * stores do ({@code TimestampedBytesStore}), so Kafka Streams needs no format adapter.
   */
  public static KeyValueBytesStoreSupplier persistentTimestampedKeyValueStore(String name) {
    return new Supplier(name, Format.TIMESTAMPED);
  }

  /** A persistent key-value store holding values with timestamp and headers. */
  public static KeyValueBytesStoreSupplier persistentTimestampedKeyValueStoreWithHeaders(
      String name) {
    return new Supplier(name, Format.HEADERS);
  }

  private enum Format {
    PLAIN,
    TIMESTAMPED,
    HEADERS
  }

  private record Supplier(String name, Format format) implements KeyValueBytesStoreSupplier {
    Supplier {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("a store name is required");
      }
    }

    @Override
    public KeyValueStore<Bytes, byte[]> get() {
      return switch (format) {
        case PLAIN -> new BackboneKeyValueStore(name);
        case TIMESTAMPED -> new TimestampedBackboneKeyValueStore(name);
        case HEADERS -> new HeadersBackboneKeyValueStore(name);
      };
    }

    @Override
    public String metricsScope() {
      return "backbone";
    }
  }
}
