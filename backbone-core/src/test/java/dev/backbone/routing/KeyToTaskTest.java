package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class KeyToTaskTest {
  @Property(tries = 2000)
  void mapsEveryKeyToTheProducersDefaultPartition(
      @ForAll @Size(max = 64) byte[] key, @ForAll @IntRange(min = 1, max = 10_000) int partitions) {
    assertThat(KeyToTask.partition(key, partitions))
        .isEqualTo(BuiltInPartitioner.partitionForKey(key, partitions));
  }

  @Property(tries = 500)
  void mapsAStringKeyAsTheProducerOfTheKeyedEventsDoes(
      @ForAll @Size(max = 40) String key, @ForAll @IntRange(min = 1, max = 2_400) int partitions) {
    // The ingest stage writes customer ids with StringSerializer and no custom partitioner.
    byte[] serialized = new StringSerializer().serialize("keyed-events", key);

    assertThat(KeyToTask.partition(serialized, partitions))
        .isEqualTo(BuiltInPartitioner.partitionForKey(serialized, partitions));
  }

  @Test
  void refusesAMissingKeyOrNoPartitions() {
    assertThatThrownBy(() -> KeyToTask.partition(null, 3))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KeyToTask.partition(new byte[] {1}, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one partition");
  }
}
