package dev.backbone.testkit;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import kafka.cluster.Partition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * One running KRaft cluster of a given {@link ClusterShape}, owned by the root JUnit extension
 * store: JUnit closes it when the whole test run ends, which is why it is {@link AutoCloseable}.
 */
final class SharedKafkaCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SharedKafkaCluster.class);

  private final ClusterShape shape;
  private final KafkaClusterTestKit kit;
  private final Admin admin;
  private final TestKafkaCluster cluster;

  private SharedKafkaCluster(ClusterShape shape, KafkaClusterTestKit kit) {
    this.shape = shape;
    this.kit = kit;
    this.admin = kit.admin();
    this.cluster =
        new TestKafkaCluster(
            kit.bootstrapServers(),
            admin,
            shape.replicationFactor(),
            this::knownToEveryBroker,
            this::ledAndHosted);
  }

  /**
   * Whether every broker's metadata cache already lists the topic with this many partitions. An
   * Admin answer comes from one broker; a client that asks another one right after might still get
   * UNKNOWN_TOPIC_OR_PARTITION, so readiness is judged from the brokers themselves. This is the one
   * of the two places the test kit reads broker internals, through the handles KafkaClusterTestKit
   * exposes.
   */
  private boolean knownToEveryBroker(String topic, int partitions) {
    return kit.brokers().values().stream()
        .allMatch(broker -> broker.metadataCache().numPartitions(topic).orElse(-1) == partitions);
  }

  /**
   * Whether some broker hosts the partition online and leads it: what its replica manager checks
   * before it appends a Produce ({@code ReplicaManager.getPartitionOrError}, then {@code
   * Partition.appendRecordsToLeader}). A broker lists a partition in its metadata cache before it
   * creates it ({@code BrokerMetadataPublisher}), so the metadata check above cannot tell this.
   */
  private boolean ledAndHosted(TopicPartition partition) {
    return kit.brokers().values().stream()
        .anyMatch(
            broker -> {
              Option<Partition> hosted = broker.replicaManager().onlinePartition(partition);
              return hosted.isDefined() && hosted.get().isLeader();
            });
  }

  /**
   * Formats, starts and waits for a cluster of the given shape: the first broker is combined with
   * the single controller, the others are brokers only (one controller is plenty for tests, and
   * each extra voter would cost a controller, a raft manager and their threads).
   */
  static SharedKafkaCluster start(ClusterShape shape) {
    long startedAt = System.nanoTime();
    TestKitNodes nodes =
        new TestKitNodes.Builder(productionBootstrapMetadata())
            .setCombined(true)
            .setNumControllerNodes(1)
            .setNumBrokerNodes(shape.brokers())
            .setPerServerProperties(shape.perNodeSettings())
            .build();
    List<Integer> expectedIds = IntStream.range(0, shape.brokers()).boxed().toList();
    if (!List.copyOf(nodes.brokerNodes().keySet()).equals(expectedIds)
        || !nodes.controllerNodes().keySet().equals(Set.of(ClusterShape.CONTROLLER_NODE_ID))) {
      throw new IllegalStateException(
          "KafkaClusterTestKit numbered the brokers "
              + nodes.brokerNodes().keySet()
              + " and controllers "
              + nodes.controllerNodes().keySet()
              + " instead of "
              + expectedIds
              + " and ["
              + ClusterShape.CONTROLLER_NODE_ID
              + "]"
              + "; ClusterShape.perNodeSettings must follow that numbering");
    }
    KafkaClusterTestKit kit = null;
    try {
      KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
      shape.brokerSettings().forEach(builder::setConfigProp);
      kit = builder.build();
      kit.format();
      kit.startup();
      kit.waitForReadyBrokers();
      SharedKafkaCluster started = new SharedKafkaCluster(shape, kit);
      log.info(
          "Started a {}-broker KRaft test cluster{} at {} in {} ms",
          shape.brokers(),
          shape.racks().isEmpty() ? "" : " with racks " + shape.racks(),
          started.cluster.bootstrapServers(),
          Duration.ofNanos(System.nanoTime() - startedAt).toMillis());
      return started;
    } catch (Exception e) {
      if (kit != null) {
        closeQuietly(kit, e);
      }
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException(
          "Could not start a " + shape.brokers() + "-broker KRaft test cluster: " + e, e);
    }
  }

  /**
   * The metadata version and feature levels a production Kafka 4.3 cluster is formatted with; the
   * test kit's default is the newest, still unstable, version.
   */
  private static BootstrapMetadata productionBootstrapMetadata() {
    MetadataVersion version = MetadataVersion.latestProduction();
    Map<String, Short> levels =
        Feature.PRODUCTION_FEATURES.stream()
            .collect(
                Collectors.toMap(
                    Feature::featureName,
                    feature -> feature.defaultLevel(version),
                    (a, b) -> a,
                    TreeMap::new));
    return BootstrapMetadata.fromVersions(version, levels, "backbone-test-kit");
  }

  TestKafkaCluster cluster() {
    return cluster;
  }

  @Override
  public void close() {
    log.info(
        "Stopping the {}-broker KRaft test cluster at {}",
        shape.brokers(),
        cluster.bootstrapServers());
    Exception failure = null;
    try {
      admin.close(Duration.ofSeconds(10));
    } catch (RuntimeException e) {
      failure = e;
    }
    try {
      kit.close();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (failure != null) {
        e.addSuppressed(failure);
      }
      failure = e;
    }
    if (failure != null) {
      throw new IllegalStateException(
          "Stopping the KRaft test cluster at " + cluster.bootstrapServers() + " failed", failure);
    }
  }

  private static void closeQuietly(KafkaClusterTestKit kit, Exception failure) {
    try {
      kit.close();
    } catch (Exception e) {
      failure.addSuppressed(e);
    }
  }
}
