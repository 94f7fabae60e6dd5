package dev.backbone.routing;

import org.apache.kafka.common.utils.Utils;

/**
 * The partition, and so the task, of a serialized key: exactly what the producer's default
 * partitioner computes for a record with a key ({@code toPositive(murmur2(key)) % partitions}).
 *
 * <p>What must hold: a key is routed to the partition its records were written to, or a read goes
 * to a node that never saw the key. The state stage reads a topic partitioned by the producer's
 * default partitioner, so the two must agree bit for bit; {@code KeyToTaskTest} checks it against
 * the producer's own code for random keys and partition counts.
 */
public final class KeyToTask {
  private KeyToTask() {}

  /**
   * The partition of a serialized key.
   *
   * @param serializedKey the key's bytes, as the producer serialized it
   * @param partitions the partition count of the topic (the task count of the subtopology)
   * @throws IllegalArgumentException if {@code partitions} is below 1 or the key is null
   */
  public static int partition(byte[] serializedKey, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("a topic has at least one partition, not " + partitions);
    }
    if (serializedKey == null) {
      throw new IllegalArgumentException("a null key has no partition");
    }
    return Utils.toPositive(Utils.murmur2(serializedKey)) % partitions;
  }
}
