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
 * StreamsConfig#DEFAULT_CLIENT_SUPPLIER_CONFIG}), with {@code
 * enable.transactional.statestores=true} (both in {@link BackboneStores#streamsSettings()}).
 *
 * <p>Consumers and the admin client are Kafka's own. A transactional producer is wrapped in a
 * {@link TransactionReportingProducer}, which tells the stream thread's stores how its transaction
 * ended: Kafka Streams commits the stores after every transaction, but also on paths where the
 * transaction failed, and a store must apply its writes only in the first case. Under at-least-once
 * this supplier changes nothing.
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
    Producer<byte[], byte[]> producer = createProducer(config);
    return config.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG) == null
        ? producer
        : new TransactionReportingProducer(producer);
  }

  /**
   * The Kafka producer that {@link #getProducer} wraps; a subclass may decorate it (tests inject
   * faults here).
   */
  protected Producer<byte[], byte[]> createProducer(Map<String, Object> config) {
    return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
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
