package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingPublisher;
import dev.backbone.routing.RoutingPublishingTaskAssignor;
import dev.backbone.server.StreamsStage;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.common.metrics.JmxReporter;
import org.apache.kafka.streams.StreamsBuilder;
import org.junit.jupiter.api.Test;

class StagePropertiesTest {

  @Test
  void nodeSettingsAreDefaultsAndTheStageWins() {
    Properties node = props("bootstrap.servers", "b:9092", "commit.interval.ms", "1000");
    StreamsStage stage = stage(props("application.id", "app", "commit.interval.ms", "50"));

    Properties resolved = StageProperties.resolve(node, stage, Optional.empty());

    assertThat(resolved)
        .containsEntry("bootstrap.servers", "b:9092")
        .containsEntry("commit.interval.ms", "50")
        .containsEntry("application.id", "app");
  }

  @Test
  void backboneSettingsNeverReachKafkaStreams() {
    Properties node = props("backbone.node.id", "n1", "backbone.http.port", "0");

    Properties resolved =
        StageProperties.resolve(node, stage(props("application.id", "a")), Optional.empty());

    assertThat(resolved.stringPropertyNames()).noneMatch(k -> k.startsWith("backbone."));
  }

  @Test
  void theNodesRackIsAppliedToEveryStage() {
    Properties node = props("client.rack", "rack-a");

    assertThat(StageProperties.resolve(node, stage(props("application.id", "a")), Optional.empty()))
        .containsEntry("client.rack", "rack-a");
    assertThat(StageProperties.problems(node, stage(props("application.id", "a")), false))
        .isEmpty();
  }

  @Test
  void aStageInAnotherRackThanItsNodeIsAProblem() {
    Properties node = props("client.rack", "rack-a");
    StreamsStage stage = stage(props("application.id", "a", "client.rack", "rack-b"));

    assertThat(StageProperties.problems(node, stage, false))
        .singleElement()
        .asString()
        .contains("rack");
  }

  @Test
  void aRoutedStageGetsThePublishingAssignorAroundItsOwnAndNoApplicationServer() {
    StreamsStage plain = stage(props("application.id", "a"));
    StreamsStage own =
        stage(props("application.id", "a", "task.assignor.class", "com.example.MyAssignor"));
    try (RoutingPublisher publisher = dummyPublisher()) {
      assertRouted(
          plain,
          own,
          new StageProperties.Routing(
              "node-7", "org.example.Default", publisher, new RestoreTracker()));
    }
  }

  private static void assertRouted(
      StreamsStage plain, StreamsStage own, StageProperties.Routing routing) {

    Properties resolved = StageProperties.resolve(new Properties(), plain, Optional.of(routing));
    assertThat(resolved)
        .containsEntry("task.assignor.class", RoutingPublishingTaskAssignor.class.getName())
        .containsEntry("backbone.routing.delegate.assignor.class", "org.example.Default")
        .containsEntry("client.tag.backbone.node", "node-7")
        .containsEntry(RoutingPublishingTaskAssignor.PUBLISHER_CONFIG, routing.publisher())
        .doesNotContainKey("application.server");
    assertThat(StageProperties.resolve(new Properties(), own, Optional.of(routing)))
        .containsEntry("backbone.routing.delegate.assignor.class", "com.example.MyAssignor");
    assertThat(StageProperties.resolve(new Properties(), plain, Optional.empty()))
        .doesNotContainKeys("task.assignor.class", "client.tag.backbone.node");
  }

  @Test
  void aRoutedStageReportsStoreLifecycleToItsTrackerAndKeepsTheJmxReporter() {
    try (RoutingPublisher publisher = dummyPublisher()) {
      RestoreTracker tracker = new RestoreTracker();
      StageProperties.Routing routing =
          new StageProperties.Routing("node-7", "org.example.Default", publisher, tracker);

      Properties plain =
          StageProperties.resolve(
              new Properties(), stage(props("application.id", "a")), Optional.of(routing));
      Properties own =
          StageProperties.resolve(
              new Properties(),
              stage(props("application.id", "a", "metric.reporters", "com.example.R")),
              Optional.of(routing));

      String reporter = RestoreTracker.StoreLifecycleReporter.class.getName();
      assertThat(plain)
          .containsEntry("metric.reporters", JmxReporter.class.getName() + "," + reporter)
          .containsEntry(RestoreTracker.TRACKER_CONFIG, tracker);
      assertThat(own).containsEntry("metric.reporters", "com.example.R," + reporter);
    }
  }

  @Test
  void anExactlyOnceStageWithAQueryableStoreRunsWithoutTheRecordCache() {
    try (RoutingPublisher publisher = dummyPublisher()) {
      StageProperties.Routing routing =
          new StageProperties.Routing(
              "node-7", "org.example.Default", publisher, new RestoreTracker());
      Properties eos = props("application.id", "a", "processing.guarantee", "exactly_once_v2");

      assertThat(StageProperties.resolve(new Properties(), stage(eos), Optional.of(routing)))
          .containsEntry("statestore.cache.max.bytes", "0");
      assertThat(
              StageProperties.resolve(
                  new Properties(), stage(props("application.id", "a")), Optional.of(routing)))
          .doesNotContainKey("statestore.cache.max.bytes");
      assertThat(StageProperties.resolve(new Properties(), stage(eos), Optional.empty()))
          .doesNotContainKey("statestore.cache.max.bytes");
    }
  }

  @Test
  void anExactlyOnceStageWithAQueryableStoreMayNotTurnTheRecordCacheOn() {
    Properties node = props("processing.guarantee", "exactly_once_v2");
    StreamsStage cached = stage(props("application.id", "a", "statestore.cache.max.bytes", "1024"));
    StreamsStage off = stage(props("application.id", "a", "statestore.cache.max.bytes", "0"));

    assertThat(StageProperties.problems(node, cached, true))
        .singleElement()
        .asString()
        .contains("statestore.cache.max.bytes=1024", "uncommitted");
    assertThat(StageProperties.problems(node, cached, false)).isEmpty();
    assertThat(StageProperties.problems(node, off, true)).isEmpty();
    assertThat(StageProperties.problems(new Properties(), cached, true)).isEmpty();
  }

  @Test
  void applicationServerIsRefused() {
    assertThat(
            StageProperties.problems(
                new Properties(),
                stage(props("application.id", "a", "application.server", "h:1")),
                false))
        .singleElement()
        .asString()
        .contains("application.server");
  }

  private static RoutingPublisher dummyPublisher() {
    // Never connects: a producer only reaches the broker when it sends.
    return new RoutingPublisher(
        java.util.Map.of("bootstrap.servers", "127.0.0.1:1"), new RoutingCache("a"));
  }

  @Test
  void aStageWithoutApplicationIdIsAProblem() {
    assertThat(StageProperties.problems(new Properties(), stage(new Properties()), false))
        .singleElement()
        .asString()
        .contains("application.id");
  }

  private static StreamsStage stage(Properties properties) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream("in").to("out");
    return new StreamsStage("s", builder.build(), properties);
  }

  private static Properties props(String... keyValues) {
    Properties p = new Properties();
    for (int i = 0; i < keyValues.length; i += 2) {
      p.setProperty(keyValues[i], keyValues[i + 1]);
    }
    return p;
  }
}
