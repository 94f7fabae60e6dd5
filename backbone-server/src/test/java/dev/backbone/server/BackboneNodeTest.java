package dev.backbone.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.FatalBackboneException;
import java.util.Properties;
import java.util.function.Function;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

class BackboneNodeTest {

  @Test
  void buildReportsEveryProblemAtOnce() {
    Properties node = new Properties();
    node.setProperty("backbone.http.prot", "1");
    StreamsStage noAppId = new StreamsStage("a", tableTopology("t1"), new Properties());
    StreamsStage same = new StreamsStage("a", tableTopology("t2"), props("application.id", "x"));

    assertThatThrownBy(
            () ->
                BackboneNode.builder()
                    .properties(node)
                    .stage(noAppId)
                    .stage(same)
                    .queryableStore(QueryableStore.withStringKeys("missing", "a", v -> v))
                    .queryableStore(QueryableStore.withStringKeys("t1", "nope", v -> v))
                    .build())
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("backbone.http.prot")
        .hasMessageContaining("no application.id")
        .hasMessageContaining("two stages are named 'a'")
        .hasMessageContaining("has no store 'missing'")
        .hasMessageContaining("stage 'nope'")
        .satisfies(e -> assertThat(((FatalBackboneException) e).code()).isEqualTo("BAD_CONFIG"));
  }

  @Test
  void stagesMustNotShareAnApplicationId() {
    assertThatThrownBy(
            () ->
                BackboneNode.builder()
                    .stage(new StreamsStage("a", tableTopology("t1"), props("application.id", "x")))
                    .stage(new StreamsStage("b", tableTopology("t2"), props("application.id", "x")))
                    .build())
        .hasMessageContaining("share application.id 'x'");
  }

  @Test
  void anExactlyOnceStageWithAQueryableStoreMayNotRunTheRecordCache() {
    Properties eosWithCache =
        props(
            "application.id", "x",
            "processing.guarantee", "exactly_once_v2",
            "statestore.cache.max.bytes", "10485760");
    assertThatThrownBy(
            () ->
                BackboneNode.builder()
                    .stage(new StreamsStage("s", tableTopology("t1"), eosWithCache))
                    .queryableStore(QueryableStore.withStringKeys("t1", "s", Function.identity()))
                    .build())
        .hasMessageContaining("statestore.cache.max.bytes=10485760")
        .hasMessageContaining("uncommitted");
  }

  @Test
  void aNodeNeedsAStage() {
    assertThatThrownBy(() -> BackboneNode.builder().build())
        .hasMessageContaining("at least one stage");
  }

  @Test
  void aValidNodeBuildsWithoutTouchingKafka() {
    Properties withDefaults = new Properties(props("backbone.node.id", "n-7"));
    withDefaults.setProperty("backbone.http.port", "0");
    try (BackboneNode node =
        BackboneNode.builder()
            .properties(withDefaults)
            .stage(new StreamsStage("s", tableTopology("t1"), props("application.id", "x")))
            .queryableStore(QueryableStore.withStringKeys("t1", "s", Function.identity()))
            .build()) {
      assertThat(node.nodeId()).isEqualTo("n-7");
      assertThat(node.isReady()).isFalse();
      assertThatThrownBy(() -> node.streams("s")).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> node.streams("other")).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void stageNamesAreChecked() {
    assertThatThrownBy(() -> new StreamsStage("a/b", tableTopology("t"), new Properties()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aStageKeepsAPrivateCopyOfItsProperties() {
    Properties p = props("application.id", "x");
    StreamsStage stage = new StreamsStage("s", tableTopology("t"), p);
    p.setProperty("application.id", "changed");
    stage.streamsProperties().setProperty("application.id", "changed too");

    assertThat(stage.streamsProperties().getProperty("application.id")).isEqualTo("x");
  }

  private static Topology tableTopology(String store) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.table(
        store + "-topic", Materialized.<Object, Object, KeyValueStore<Bytes, byte[]>>as(store));
    return builder.build();
  }

  private static Properties props(String... keyValues) {
    Properties p = new Properties();
    for (int i = 0; i < keyValues.length; i += 2) {
      p.setProperty(keyValues[i], keyValues[i + 1]);
    }
    return p;
  }
}
