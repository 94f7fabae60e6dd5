package dev.backbone.examples.profiles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.util.List;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;

@BackboneKafkaCluster(brokers = 1)
class CustomerProfilePipelineTopicsIT {

  @Test
  void createsEveryTopicWithTheConfiguredPartitionsAndIsIdempotent(TestKafkaCluster kafka)
      throws Exception {
    String appId = kafka.uniqueName("topics");
    CustomerProfilePipeline pipeline = new CustomerProfilePipeline(settings(appId, 4));

    pipeline.createTopics(kafka.admin());
    pipeline.createTopics(kafka.admin());

    List<String> names = List.of(appId + "-in", appId + "-dlq", pipeline.keyedEventsTopic());
    var described = kafka.admin().describeTopics(names).allTopicNames().get();
    assertThat(described.values())
        .extracting(TopicDescription::partitions)
        .allSatisfy(partitions -> assertThat(partitions).hasSize(4));
  }

  @Test
  void everyPartitionAcceptsWritesWhenCreateTopicsReturns(TestKafkaCluster kafka) {
    // Producers (the load generator, the ingest stage) start right after createTopics; a Produce
    // that reaches a leader before it hosts the partition can cost an idempotent producer records
    // (KAFKA-15591). Several fresh pipelines in a row, checked at once, without waiting.
    for (int round = 0; round < 5; round++) {
      String appId = kafka.uniqueName("writable");
      CustomerProfilePipeline pipeline = new CustomerProfilePipeline(settings(appId, 12));

      pipeline.createTopics(kafka.admin());

      for (String topic : List.of(appId + "-in", appId + "-dlq", pipeline.keyedEventsTopic())) {
        assertThat(kafka.acceptsWrites(topic, 12)).as("round %d: %s", round, topic).isTrue();
      }
    }
  }

  @Test
  void refusesAKeyedEventsTopicWithAnotherPartitionCount(TestKafkaCluster kafka) {
    String appId = kafka.uniqueName("mismatch");
    PipelineSettings settings = settings(appId, 3);
    new CustomerProfilePipeline(settings).createTopics(kafka.admin());

    CustomerProfilePipeline resized = new CustomerProfilePipeline(settings.withPartitions(6));

    assertThatThrownBy(() -> resized.createTopics(kafka.admin()))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining(resized.keyedEventsTopic())
        .hasMessageContaining("3 partitions")
        .satisfies(
            e ->
                assertThat(((FatalBackboneException) e).code())
                    .isEqualTo("TOPIC_PARTITIONS_MISMATCH"));
  }

  /** Settings whose three topics are all named after the application id. */
  private static PipelineSettings settings(String appId, int partitions) {
    return PipelineSettings.defaults(appId)
        .withInputTopic(appId + "-in")
        .withDlqTopic(appId + "-dlq")
        .withPartitions(partitions);
  }
}
