/**
 * An embedded single-node KRaft Kafka broker ({@link
 * dev.backbone.kafka.embedded.EmbeddedKafkaBroker}) that runs inside the calling JVM: the default
 * Kafka of {@code backbone demo} and {@code backbone node} when no {@code --bootstrap-servers} is
 * given, and a broker for tests that need one that survives a restart on the same directory.
 *
 * <p>It starts Kafka through {@code kafka.server.KafkaRaftServer}, the same entry point as {@code
 * kafka-server-start.sh}, and formats storage with {@code
 * org.apache.kafka.metadata.storage.Formatter}, the engine of {@code kafka-storage.sh format}; no
 * other Kafka server class is touched.
 */
package dev.backbone.kafka.embedded;
