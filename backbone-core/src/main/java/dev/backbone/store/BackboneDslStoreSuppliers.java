package dev.backbone.store;

import org.apache.kafka.streams.DslStoreFormat;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.state.DslKeyValueParams;
import org.apache.kafka.streams.state.DslSessionParams;
import org.apache.kafka.streams.state.DslWindowParams;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.SessionBytesStoreSupplier;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;

/**
 * Makes every DSL key-value store a Backbone store: set {@code
 * dsl.store.suppliers.class=dev.backbone.store.BackboneDslStoreSuppliers}, and under exactly-once
 * also {@link BackboneStores#streamsSettings()}. Window and session stores stay Kafka Streams' own
 * RocksDB stores for now.
 */
public class BackboneDslStoreSuppliers extends BuiltInDslStoreSuppliers.RocksDBDslStoreSuppliers {

  /** Used by Kafka Streams through reflection. */
  public BackboneDslStoreSuppliers() {}

  @Override
  public KeyValueBytesStoreSupplier keyValueStore(DslKeyValueParams params) {
    DslStoreFormat format = params.dslStoreFormat();
    if (format == DslStoreFormat.HEADERS) {
      return BackboneStores.persistentTimestampedKeyValueStoreWithHeaders(params.name());
    }
    if (format == DslStoreFormat.TIMESTAMPED) {
      return BackboneStores.persistentTimestampedKeyValueStore(params.name());
    }
    return BackboneStores.persistentKeyValueStore(params.name());
  }

  @Override
  public WindowBytesStoreSupplier windowStore(DslWindowParams params) {
    return super.windowStore(params);
  }

  @Override
  public SessionBytesStoreSupplier sessionStore(DslSessionParams params) {
    return super.sessionStore(params);
  }
}
