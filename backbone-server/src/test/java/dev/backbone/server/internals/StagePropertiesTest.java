package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.server.StreamsStage;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.state.HostInfo;
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
    assertThat(StageProperties.problems(node, stage(props("application.id", "a")))).isEmpty();
  }

  @Test
  void aStageInAnotherRackThanItsNodeIsAProblem() {
    Properties node = props("client.rack", "rack-a");
    StreamsStage stage = stage(props("application.id", "a", "client.rack", "rack-b"));

    assertThat(StageProperties.problems(node, stage)).singleElement().asString().contains("rack");
  }

  @Test
  void applicationServerIsSetOnlyByTheNode() {
    StreamsStage stage = stage(props("application.id", "a"));

    assertThat(
            StageProperties.resolve(
                new Properties(), stage, Optional.of(new HostInfo("10.0.0.7", 8080))))
        .containsEntry("application.server", "10.0.0.7:8080");
    assertThat(StageProperties.resolve(new Properties(), stage, Optional.empty()))
        .doesNotContainKey("application.server");
    assertThat(
            StageProperties.problems(
                new Properties(), stage(props("application.id", "a", "application.server", "h:1"))))
        .singleElement()
        .asString()
        .contains("application.server");
  }

  @Test
  void aStageWithoutApplicationIdIsAProblem() {
    assertThat(StageProperties.problems(new Properties(), stage(new Properties())))
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
