package dev.backbone.store;

import dev.backbone.store.internals.TransactionReportingProducer;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaClientSupplier;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The Kafka clients of a Kafka Streams application on Backbone stores under exactly-once: set
 * {@code default.client.supplier=dev.backbone.store.BackboneClientSupplier} ({@link
 * StreamsConfig#DEFAULT_CLIENT_SUPPLIER_CONFIG}) next to {@code dsl.store.suppliers.class}.
 *
 * <p>Consumers and the admin client are Kafka's own. A transactional producer is wrapped so that
 * every Backbone store learns when the stream thread's transaction commits (and applies its writes
 * together with its changelog offset right then) or aborts (and drops them). Without it, Kafka
 * Streams 4.3 commits an exactly-once store only when a task is suspended or closed, so a store's
 * uncommitted writes would grow until then. Under at-least-once this supplier changes nothing.
 */
public class BackboneClientSupplier implements KafkaClientSupplier {

  /** Used by Kafka Streams through reflection. */
  public BackboneClientSupplier() {}

  @Override
  public Admin getAdmin(Map<String, Object> config) {
    return Admin.create(config);
  }

  @Override
  public Producer<byte[], byte[]> getProducer(Map<String, Object> config) {
    Producer<byte[], byte[]> producer =
        new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    return config.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG) == null
        ? producer
        : new TransactionReportingProducer(producer);
  }

  @Override
  public Consumer<byte[], byte[]> getConsumer(Map<String, Object> config) {
    return consumer(config);
  }

  @Override
  public Consumer<byte[], byte[]> getRestoreConsumer(Map<String, Object> config) {
    return consumer(config);
  }

  @Override
  public Consumer<byte[], byte[]> getGlobalConsumer(Map<String, Object> config) {
    return consumer(config);
  }

  private static Consumer<byte[], byte[]> consumer(Map<String, Object> config) {
    return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
