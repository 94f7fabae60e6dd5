package dev.backbone.server.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.BackboneException;
import dev.backbone.retention.ChangelogRetention;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * {@link ChangelogRetention} on a real broker: an application's changelogs are found by name,
 * bounded once (a second call changes nothing), refused when unsafe or missing, and reported with
 * their bytes on the brokers, policy, retention and offsets.
 */
@BackboneKafkaCluster(brokers = 1)
class ChangelogRetentionIT {
  private static final Duration DAY = Duration.ofHours(24);
  private static final Duration HOUR = Duration.ofHours(1);

  @Test
  void anApplicationsChangelogsAreBoundedOnceAndReported(TestKafkaCluster kafka) throws Exception {
    String app = kafka.uniqueName("retention-app");
    String changelog = app + "-profiles-changelog";
    String other = app + "-keyed-events-g0"; // not a changelog
    kafka.createTopic(changelog, 2, 1, Map.of("cleanup.policy", "compact"));
    kafka.createTopic(other, 2);
    try (KafkaProducer<String, String> producer =
        kafka.producer(new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < 50; i++) {
        producer.send(new ProducerRecord<>(changelog, "k" + i, "v" + i)).get();
      }
    }

    List<String> topics = ChangelogRetention.changelogTopics(kafka.admin(), app);
    assertThat(topics).containsExactly(changelog);
    assertThat(ChangelogRetention.apply(kafka.admin(), topics, DAY, HOUR))
        .containsExactly(changelog);
    assertThat(ChangelogRetention.apply(kafka.admin(), topics, DAY, HOUR))
        .as("already bounded")
        .isEmpty();

    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, changelog);
    Config config =
        kafka
            .admin()
            .describeConfigs(List.of(resource))
            .all()
            .get(30, TimeUnit.SECONDS)
            .get(resource);
    assertThat(config.get("cleanup.policy").value()).isEqualTo("compact,delete");
    assertThat(config.get("retention.ms").value()).isEqualTo("86400000");
    assertThat(config.get("min.compaction.lag.ms").value()).isEqualTo("86400000");
    assertThat(config.get("segment.ms").value()).isEqualTo("8640000");

    ChangelogRetention.TopicReport report = ChangelogRetention.report(kafka.admin(), topics).get(0);
    assertThat(report.topic()).isEqualTo(changelog);
    assertThat(report.partitions()).isEqualTo(2);
    assertThat(report.bounded()).isTrue();
    assertThat(report.retentionMs()).isEqualTo(86_400_000L);
    assertThat(report.records()).isEqualTo(50);
    assertThat(report.deletedOffsets()).isZero();
    assertThat(report.bytesOnBrokers()).isPositive();
  }

  @Test
  void anUnsafeRetentionOrAMissingChangelogIsRefusedAndNothingChanges(TestKafkaCluster kafka)
      throws Exception {
    String changelog = kafka.uniqueName("retention-unsafe") + "-s-changelog";
    kafka.createTopic(changelog, 1, 1, Map.of("cleanup.policy", "compact"));

    assertThatThrownBy(
            () ->
                ChangelogRetention.apply(
                    kafka.admin(), List.of(changelog), Duration.ofHours(2), HOUR))
        .isInstanceOf(BackboneException.class)
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("RETENTION_UNSAFE");
    assertThatThrownBy(
            () ->
                ChangelogRetention.apply(kafka.admin(), List.of(changelog + "-missing"), DAY, HOUR))
        .isInstanceOf(BackboneException.class)
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("TOPIC_NOT_FOUND");
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, changelog);
    assertThat(
            kafka
                .admin()
                .describeConfigs(List.of(resource))
                .all()
                .get(30, TimeUnit.SECONDS)
                .get(resource)
                .get("cleanup.policy")
                .value())
        .isEqualTo("compact");
  }
}
