package dev.backbone.examples.profiles;

import dev.backbone.store.BackboneDslStoreSuppliers;
import java.util.Locale;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.state.DslStoreSuppliers;

/** Which key-value store the state stage materializes its profiles in. */
public enum StoreKind {
  /** Backbone's snapshot store (the default). */
  BACKBONE(BackboneDslStoreSuppliers.class),
  /** Kafka Streams' built-in RocksDB store, for comparison. */
  STOCK(BuiltInDslStoreSuppliers.RocksDBDslStoreSuppliers.class);

  private final Class<? extends DslStoreSuppliers> suppliers;

  StoreKind(Class<? extends DslStoreSuppliers> suppliers) {
    this.suppliers = suppliers;
  }

  /** The {@code dsl.store.suppliers.class} that selects this kind. */
  public Class<? extends DslStoreSuppliers> dslStoreSuppliers() {
    return suppliers;
  }

  /** Lower-case name as the CLI spells it: {@code backbone}, {@code stock}. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code backbone} or {@code stock}, any case. */
  public static StoreKind parse(String value) {
    for (StoreKind kind : values()) {
      if (kind.name().equalsIgnoreCase(value == null ? "" : value.trim())) {
        return kind;
      }
    }
    throw new IllegalArgumentException("store must be backbone or stock, got '" + value + "'");
  }
}
