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
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(
            PipelineSettings.defaults(appId)
                .withInputTopic(appId + "-in")
                .withDlqTopic(appId + "-dlq")
                .withPartitions(4));

    pipeline.createTopics(kafka.admin());
    pipeline.createTopics(kafka.admin());

    List<String> names = List.of(appId + "-in", appId + "-dlq", pipeline.keyedEventsTopic());
    var described = kafka.admin().describeTopics(names).allTopicNames().get();
    assertThat(described.values())
        .extracting(TopicDescription::partitions)
        .allSatisfy(partitions -> assertThat(partitions).hasSize(4));
  }

  @Test
  void refusesAKeyedEventsTopicWithAnotherPartitionCount(TestKafkaCluster kafka) {
    String appId = kafka.uniqueName("mismatch");
    PipelineSettings settings =
        PipelineSettings.defaults(appId)
            .withInputTopic(appId + "-in")
            .withDlqTopic(appId + "-dlq")
            .withPartitions(3);
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
}
