package dev.backbone.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.store.internals.BackboneKeyValueStore;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ServingTasks} as Kafka Streams' own task lifecycle feeds it: {@code TopologyTestDriver}
 * initializes a task's processors as it starts and closes them as it closes ({@code StreamTask}
 * does the same at {@code completeRestoration} and {@code suspend}), with a real Backbone store.
 */
class ServingTasksTest {
  private static final TaskId TASK = new TaskId(0, 0);
  private static final String STORE = "counts";

  @TempDir Path dir;

  @Test
  void aTaskServesFromItsProcessorsInitializationToTheirCloseAndItsStoreAnswersIq() {
    ServingTasks index = new ServingTasks();
    Optional<ServingTasks.Serving> seen;
    try (TopologyTestDriver driver =
        new TopologyTestDriver(counting(BackboneStores.topologyConfig(Map.of())), props(index))) {
      TestInputTopic<String, String> in =
          driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
      in.pipeInput("a", "x");
      in.pipeInput("a", "y");

      seen = index.serving(TASK, STORE);
      assertThat(seen).isPresent();
      QueryResult<Long> count =
          seen.get()
              .store()
              .query(KeyQuery.<String, Long>withKey("a"), PositionBound.unbounded(), config());
      assertThat(count.isSuccess()).as("%s", count).isTrue();
      assertThat(count.getResult()).isEqualTo(2L);
      assertThat(seen.get().stillCurrent()).isTrue();
      assertThat(index.serving(new TaskId(0, 1), STORE)).isEmpty();
      assertThat(index.serving(TASK, "other-store")).isEmpty();
    }
    assertThat(index.serving(TASK, STORE)).as("after the task closed").isEmpty();
    assertThat(seen.get().stillCurrent()).as("a read begun before the close").isFalse();
  }

  @Test
  void aTopologyBuiltWithoutTheWrapperNeverServesItsReadsGoThroughIq() {
    ServingTasks index = new ServingTasks();
    try (TopologyTestDriver driver = new TopologyTestDriver(counting(null), props(index))) {
      driver
          .createInputTopic("in", new StringSerializer(), new StringSerializer())
          .pipeInput("a", "x");

      assertThat(index.serving(TASK, STORE)).isEmpty();
    }
  }

  @Test
  void aStoreOpenedAgainEndsTheTasksRunEvenWithoutAProcessorClose() {
    ServingTasks index = new ServingTasks();
    // Two incarnations of the store, told apart by identity only; neither is opened.
    StateStore first = new BackboneKeyValueStore(STORE);
    StateStore second = new BackboneKeyValueStore(STORE);
    index.storeOpened(TASK, STORE, first, true);
    index.processorsInitialized(TASK);
    ServingTasks.Serving seen = index.serving(TASK, STORE).orElseThrow();
    assertThat(seen.store()).isSameAs(first);

    index.storeOpened(TASK, STORE, second, true);

    assertThat(index.serving(TASK, STORE)).isEmpty();
    assertThat(seen.stillCurrent()).isFalse();
    index.processorsInitialized(TASK);
    assertThat(index.serving(TASK, STORE).orElseThrow().store()).isSameAs(second);
    assertThat(seen.stillCurrent()).as("a new run is not the run a read saw").isFalse();

    index.storeClosed(TASK, STORE, first);
    assertThat(index.serving(TASK, STORE)).as("any store of the task closing ends it").isEmpty();
    index.processorsInitialized(TASK);
    assertThat(index.serving(TASK, STORE).orElseThrow().store())
        .as("the close of an older incarnation leaves the newer one")
        .isSameAs(second);
  }

  @Test
  void theTopologyConfigRefusesAnotherProcessorWrapper() {
    assertThatThrownBy(
            () ->
                BackboneStores.topologyConfig(
                    Map.of(StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG, "com.example.Mine")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("com.example.Mine")
        .hasMessageContaining(ServingTaskWrapper.class.getName());
  }

  private static Topology counting(org.apache.kafka.streams.TopologyConfig config) {
    StreamsBuilder builder = config == null ? new StreamsBuilder() : new StreamsBuilder(config);
    builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
        .groupByKey()
        .count(
            Materialized.<String, Long>as(BackboneStores.persistentTimestampedKeyValueStore(STORE))
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.Long()));
    return builder.build();
  }

  private Properties props(ServingTasks index) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "serving-tasks-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
    props.put(ServingTasks.CONFIG, index);
    return props;
  }

  private static QueryConfig config() {
    return new QueryConfig(false);
  }
}
