package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.UUID;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

class RoutingIndexTest {

  @Test
  void everyLookupOfTheIndexAnswersWhatTheTableAnswers() {
    long seed = 20261202L;
    Random random = new Random(seed);
    for (int round = 0; round < 50; round++) {
      RoutingTable table =
          RoutingCodecTest.randomTable(
              random, round, random.nextInt(8), 1 + random.nextInt(3), 1 + random.nextInt(20), 2);
      RoutingIndex index = RoutingIndex.of(table);
      String where = "seed " + seed + " round " + round;
      assertThat(index.partitionCounts()).as(where).isEqualTo(table.partitionCounts());
      for (int s = 0; s < 4; s++) {
        for (int p = 0; p < 22; p++) {
          TaskId task = new TaskId(s, p);
          assertThat(index.route(task)).as(where + " " + task).isEqualTo(table.route(task));
        }
        for (int k = 0; k < 20; k++) {
          byte[] key = new byte[1 + random.nextInt(16)];
          random.nextBytes(key);
          assertThat(index.taskOf(s, key)).as(where).isEqualTo(table.taskOf(s, key));
        }
      }
      for (RoutedMember m : table.members()) {
        assertThat(index.member(m.processId())).as(where).isEqualTo(table.member(m.processId()));
      }
      UUID stranger = new UUID(random.nextLong(), random.nextLong());
      assertThat(index.member(stranger)).isEqualTo(table.member(stranger)).isEmpty();
    }
  }

  @Test
  void theCacheBuildsANewIndexWhenItsTableChanges() {
    RoutingCache cache = new RoutingCache("app");
    RoutingIndex first = cache.index();
    assertThat(cache.index()).isSameAs(first);
    RoutingTable random = RoutingCodecTest.randomTable(new Random(7), 5, 3, 1, 4, 1);
    RoutingTable newer =
        new RoutingTable("app", 5, random.createdMs(), random.members(), random.tasks());
    cache.accept(newer);
    assertThat(cache.index().table()).isSameAs(cache.table());
    assertThat(cache.index().partitionCounts()).isEqualTo(newer.partitionCounts());
  }
}
