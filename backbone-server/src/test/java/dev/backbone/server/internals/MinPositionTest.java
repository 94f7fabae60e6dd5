package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.streams.query.Position;
import org.junit.jupiter.api.Test;

/** When a read's position reflects a {@code minPosition}: only the read's partition counts. */
class MinPositionTest {
  private static Position of(String topic, int partition, long offset) {
    return Position.fromMap(Map.of(topic, Map.of(partition, offset)));
  }

  @Test
  void aPositionAtOrPastTheTokenReachesIt() {
    assertThat(LocalReplicaReader.reaches(of("t", 0, 5), of("t", 0, 5), 0)).isTrue();
    assertThat(LocalReplicaReader.reaches(of("t", 0, 6), of("t", 0, 5), 0)).isTrue();
  }

  @Test
  void aPositionBehindTheTokenOrWithoutItsTopicDoesNot() {
    assertThat(LocalReplicaReader.reaches(of("t", 0, 4), of("t", 0, 5), 0)).isFalse();
    assertThat(LocalReplicaReader.reaches(of("u", 0, 9), of("t", 0, 5), 0)).isFalse();
    assertThat(LocalReplicaReader.reaches(Position.emptyPosition(), of("t", 0, 5), 0)).isFalse();
    assertThat(LocalReplicaReader.reaches(null, of("t", 0, 5), 0)).isFalse();
  }

  @Test
  void aTokenOfOtherPartitionsBindsNothingHere() {
    assertThat(LocalReplicaReader.reaches(of("t", 0, 1), of("t", 3, 1_000), 0)).isTrue();
    assertThat(LocalReplicaReader.reaches(of("t", 0, 1), Position.emptyPosition(), 0)).isTrue();
  }
}
