package dev.backbone.store.internals;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka's {@link MockProducer} for unit tests of the transaction reporting, over a cluster that
 * knows the changelog topics the tests write ({@code app-s-changelog}, {@code app-t-changelog},
 * four partitions each), so each partition gets its own offsets.
 */
public final class MockKafkaProducers {
  private MockKafkaProducers() {}

  /** An auto-completing producer: callbacks run inside {@code send}. */
  public static MockProducer<byte[], byte[]> create() {
    Node node = new Node(0, "localhost", 9092);
    List<PartitionInfo> partitions = new ArrayList<>();
    for (String topic : List.of("app-s-changelog", "app-t-changelog")) {
      for (int p = 0; p < 4; p++) {
        partitions.add(new PartitionInfo(topic, p, node, new Node[] {node}, new Node[] {node}));
      }
    }
    Cluster cluster = new Cluster("test", List.of(node), partitions, Set.of(), Set.of());
    return new MockProducer<>(
        cluster, true, null, new ByteArraySerializer(), new ByteArraySerializer());
  }
}
