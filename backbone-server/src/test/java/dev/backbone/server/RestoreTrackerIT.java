package dev.backbone.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.examples.profiles.StoreKind;
import dev.backbone.server.internals.RestoreTracker;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What {@link RestoreTracker} relies on, checked against real Kafka Streams for both store kinds: a
 * store that Kafka Streams closes and reopens (a corruption wipe and revive, {@code
 * TaskManager#closeDirtyAndRevive}) registers its metrics again, so the tracker sees a new
 * incarnation, and its restore's end marks it caught up; closing the node closes it.
 */
@BackboneKafkaCluster(brokers = 1)
class RestoreTrackerIT {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  @ParameterizedTest
  @EnumSource(StoreKind.class)
  void aStoreReopenedByKafkaStreamsIsANewIncarnation(StoreKind store, TestKafkaCluster kafka)
      throws Exception {
    CountingNodes.App app =
        CountingNodes.App.create(kafka, "tracker", 1, StreamsConfig.EXACTLY_ONCE_V2, store);
    CountingNodes.FaultSwitch fault =
        new CountingNodes.FaultSwitch(CountingNodes.FaultKind.CORRUPT_TASK);
    BackboneNode node =
        CountingNodes.node(
            kafka,
            app,
            "node-a",
            Files.createTempDirectory("backbone-tracker"),
            fault,
            new Properties());
    try {
      node.start();
      RestoreTracker tracker = node.restores(CountingNodes.STAGE);
      ProfileNodes.send(kafka, app.topic(), List.<String[]>of(new String[] {"a", "e"}));
      await().atMost(PATIENCE).until(() -> caughtUp(tracker) && node.isReady());
      long first = tracker.replica(CountingNodes.STORE, 0).incarnation();

      ProfileNodes.send(
          kafka, app.topic(), List.<String[]>of(new String[] {"a", CountingNodes.FAULT}));
      await().atMost(PATIENCE).until(fault::fired);
      await()
          .atMost(PATIENCE)
          .until(
              () ->
                  caughtUp(tracker)
                      && tracker.replica(CountingNodes.STORE, 0).incarnation() != first);
    } finally {
      node.close();
    }
    assertThat(node.restores(CountingNodes.STAGE).replica(CountingNodes.STORE, 0).phase())
        .isEqualTo(RestoreTracker.Phase.CLOSED);
  }

  private static boolean caughtUp(RestoreTracker tracker) {
    RestoreTracker.Replica replica = tracker.replica(CountingNodes.STORE, 0);
    return replica != null && replica.caughtUp();
  }
}
