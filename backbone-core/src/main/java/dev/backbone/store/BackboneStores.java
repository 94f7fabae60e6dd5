package dev.backbone.store;

import dev.backbone.store.internals.BackboneKeyValueStore;
import dev.backbone.store.internals.HeadersBackboneKeyValueStore;
import dev.backbone.store.internals.TimestampedBackboneKeyValueStore;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Factories of Backbone stores for the Processor API and for {@code Materialized.as(supplier)}, the
 * counterparts of Kafka Streams' {@code Stores.persistentKeyValueStore}. For the DSL as a whole,
 * set {@code dsl.store.suppliers.class} to {@link BackboneDslStoreSuppliers}.
 *
 * <p>Under {@code exactly_once_v2} also set {@code default.client.supplier} to {@link
 * BackboneClientSupplier}: then every store commits with each transaction. Without it Kafka Streams
 * 4.3 commits the stores only when tasks are suspended or closed, and a store warns once.
 */
public final class BackboneStores {
  private BackboneStores() {}

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
