/**
 * JUnit 5 fixtures for integration tests against a real Kafka cluster.
 *
 * <p>Annotate a test class with {@link dev.backbone.testkit.BackboneKafkaCluster} and take a {@link
 * dev.backbone.testkit.TestKafkaCluster} parameter in a constructor, lifecycle method or test
 * method. The cluster is an in-process KRaft cluster built with Kafka's own {@code
 * KafkaClusterTestKit}; one is started per JVM for each distinct cluster shape and shared by every
 * test class that asks for that shape, so tests must isolate themselves by name ({@link
 * dev.backbone.testkit.TestKafkaCluster#uniqueName(String)}) rather than by cluster.
 *
 * <p>{@link dev.backbone.testkit.S3ProxyServer} is a real S3 API (S3Proxy as a child process) for
 * tests of the snapshot archive, started once per test class.
 */
package dev.backbone.testkit;
