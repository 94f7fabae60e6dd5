package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** {@code backbone load} as a user runs it, against a real broker. */
@BackboneKafkaCluster(brokers = 1)
class LoadCommandIT {
  /** Where a user would see more than the one line: Kafka's clients and Backbone itself. */
  private static final List<String> CLIENT_LOGGERS =
      List.of("org.apache.kafka.clients", "dev.backbone");

  @Test
  void aMissingTopicFailsWithinSecondsWithOneLineNamingItAndWhatToDo(TestKafkaCluster kafka) {
    String topic = kafka.uniqueName("missing");
    ListAppender<ILoggingEvent> clientLogs = new ListAppender<>();
    clientLogs.start();
    CLIENT_LOGGERS.forEach(name -> logger(name).addAppender(clientLogs));
    CliRun run;
    try {
      // Before, the producer retried the topic's metadata for as long as the run lasted.
      run =
          assertTimeoutPreemptively(
              Duration.ofSeconds(5), () -> load(kafka, topic, "--duration", "10m"));
    } finally {
      CLIENT_LOGGERS.forEach(name -> logger(name).detachAppender(clientLogs));
    }

    assertThat(run.exit().join()).isEqualTo(BackboneCli.EXIT_FAILURE);
    assertThat(run.err().lines().toList())
        .singleElement()
        .asString()
        .startsWith("backbone load: topic " + topic + " does not exist")
        .contains(kafka.bootstrapServers())
        .contains("--create-topic --partitions N");
    assertThat(run.out()).isEmpty();
    assertThat(clientLogs.list)
        .filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .extracting(ILoggingEvent::getFormattedMessage)
        .isEmpty();
  }

  @Test
  void createTopicCreatesItAndEveryEventIsDelivered(TestKafkaCluster kafka) {
    String topic = kafka.uniqueName("created");

    CliRun run =
        load(
            kafka, topic, "--create-topic", "--partitions", "6", "--events", "5000", "--rate", "0");

    assertThat(run.exit().join()).isZero();
    assertThat(run.out()).startsWith("sent 5000 events").contains("all acknowledged");
    assertThat(kafka.endOffsets(topic)).hasSize(6);
    assertThat(kafka.endOffsetSum(topic)).isEqualTo(5000);
  }

  @Test
  void aRunThatLosesEventsExitsAtOnceNamingHowMany(TestKafkaCluster kafka) {
    String topic = kafka.uniqueName("refusing");
    kafka.createTopicRefusingWrites(topic, 3);

    CliRun run =
        assertTimeoutPreemptively(
            Duration.ofSeconds(60),
            () -> load(kafka, topic, "--duration", "10m", "--rate", "1000"));

    assertThat(run.exit().join()).isEqualTo(BackboneCli.EXIT_FAILURE);
    assertThat(run.err().lines().toList())
        .singleElement()
        .asString()
        .matches("backbone load: [1-9][0-9]* of [0-9]+ events sent to topic " + topic + " .*")
        .contains("were not acknowledged");
    assertThat(run.out()).isEmpty();
  }

  /** {@code backbone load} to the topic on this cluster, with more flags, run to its end. */
  private static CliRun load(TestKafkaCluster kafka, String topic, String... flags) {
    List<String> args =
        new ArrayList<>(
            List.of("load", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic));
    args.addAll(List.of(flags));
    return CliRun.run(args.toArray(String[]::new));
  }

  private static Logger logger(String name) {
    return (Logger) LoggerFactory.getLogger(name);
  }
}
