package dev.backbone.store.internals;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.store.BackboneClientSupplier;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;

/**
 * The Kafka Streams settings a Backbone store depends on, read from its application's configs and
 * checked once, when the store initializes.
 *
 * @param exactlyOnce whether the application runs {@code exactly_once_v2}
 */
record StoreSettings(boolean exactlyOnce) {

  /**
   * Reads the settings of a store's application.
   *
   * @throws FatalBackboneException {@code STORE_NEEDS_TRANSACTIONAL_STATE_STORES} under
   *     exactly-once without {@code enable.transactional.statestores=true} and a {@link
   *     BackboneClientSupplier} as {@code default.client.supplier}
   */
  static StoreSettings of(String store, TaskId task, Map<String, Object> configs) {
    boolean eos =
        StreamsConfig.EXACTLY_ONCE_V2.equals(
            String.valueOf(configs.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)));
    if (eos && !(transactionalStateStores(configs) && reportsTransactions(configs))) {
      throw new FatalBackboneException(
          "STORE_NEEDS_TRANSACTIONAL_STATE_STORES",
          "store "
              + store
              + " of task "
              + task
              + " runs under exactly_once_v2, where a Backbone store commits with every"
              + " transaction and must know whether it committed; set "
              + StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG
              + "=true and "
              + StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG
              + "="
              + BackboneClientSupplier.class.getName()
              + " (BackboneStores.streamsSettings(); see docs/store.md)");
    }
    return new StoreSettings(eos);
  }

  private static boolean transactionalStateStores(Map<String, Object> configs) {
    Object value = configs.get(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG);
    return value != null && Boolean.parseBoolean(value.toString().trim());
  }

  /**
   * Whether {@code default.client.supplier} is a {@link BackboneClientSupplier}. (An application
   * that hands Kafka Streams a supplier object of its own wraps its producer in a {@link
   * TransactionReportingProducer} and names the class here as well.)
   */
  private static boolean reportsTransactions(Map<String, Object> configs) {
    Object supplier = configs.get(StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG);
    if (supplier instanceof Class<?> type) {
      return BackboneClientSupplier.class.isAssignableFrom(type);
    }
    if (supplier instanceof String className && !className.isBlank()) {
      try {
        return BackboneClientSupplier.class.isAssignableFrom(
            Class.forName(className.trim(), false, StoreSettings.class.getClassLoader()));
      } catch (ClassNotFoundException | LinkageError e) {
        return false;
      }
    }
    return false;
  }
}
