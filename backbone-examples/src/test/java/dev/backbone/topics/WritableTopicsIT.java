package dev.backbone.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

/**
 * Against a real broker, whether a topic is writable is judged the way the broker judges a Produce:
 * every partition hosted online by its leader ({@link TestKafkaCluster#acceptsWrites}), not merely
 * listed in metadata.
 */
@BackboneKafkaCluster(brokers = 1)
class WritableTopicsIT {
  private static final int PARTITIONS = 12;

  @Test
  void createReturnsOnlyOnceEveryLeaderAcceptsWrites(TestKafkaCluster kafka) {
    WritableTopics topics = new WritableTopics(kafka.admin());
    // Several fresh topics in a row: each one's create result arrives before its broker has
    // applied the partitions, which is the window this must close.
    for (int round = 0; round < 5; round++) {
      String name = kafka.uniqueName("writable");

      Map<String, Integer> created =
          topics.create(List.of(new NewTopic(name, PARTITIONS, (short) 1)));

      assertThat(created).containsExactly(Map.entry(name, PARTITIONS));
      assertThat(kafka.acceptsWrites(name, PARTITIONS)).as("round %d: %s", round, name).isTrue();
    }
  }

  @Test
  void awaitsATopicCreatedElsewhereAMomentAgo(TestKafkaCluster kafka) throws Exception {
    String name = kafka.uniqueName("elsewhere");
    kafka.admin().createTopics(List.of(new NewTopic(name, PARTITIONS, (short) 1))).all().get();

    int partitions = new WritableTopics(kafka.admin()).awaitWritable(name);

    assertThat(partitions).isEqualTo(PARTITIONS);
    assertThat(kafka.acceptsWrites(name, PARTITIONS)).isTrue();
  }

  @Test
  void keepsAnExistingTopicAsItIs(TestKafkaCluster kafka) {
    String name = kafka.uniqueName("existing");
    kafka.createTopic(name, 3);

    Map<String, Integer> created =
        new WritableTopics(kafka.admin()).create(List.of(new NewTopic(name, 5, (short) 1)));

    assertThat(created).containsExactly(Map.entry(name, 3));
  }

  @Test
  void aMissingTopicFailsAtOnceNamingIt(TestKafkaCluster kafka) {
    String name = kafka.uniqueName("missing");
    WritableTopics topics = new WritableTopics(kafka.admin());

    assertTimeoutPreemptively(
        Duration.ofSeconds(5),
        () ->
            assertThatThrownBy(() -> topics.awaitWritable(name))
                .isInstanceOfSatisfying(
                    FatalBackboneException.class,
                    e -> assertThat(e.code()).isEqualTo(WritableTopics.TOPIC_NOT_FOUND))
                .hasMessageContaining(name));
  }
}
