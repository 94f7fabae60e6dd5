package dev.backbone.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.store.internals.HeadersBackboneKeyValueStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.query.FailureReason;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link StoredValueQuery} through Kafka Streams' real store layers (metered, change-logging;
 * {@code TopologyTestDriver} builds them as a stream thread does): for every key, the stored bytes
 * it answers are exactly what the value serde makes of the value a typed {@code KeyQuery} answers,
 * at the same position; a key without a value answers null; and where the query cannot reach a
 * Backbone store that answers it (a format adapter, the HEADERS format), the serving index says so
 * and the store answers an unknown query type, never bytes of another format.
 */
class StoredValueQueryTest {
  private static final TaskId TASK = new TaskId(0, 0);
  private static final String STORE = "values";
  private static final long SEED = 20261204L;

  @TempDir Path dir;

  @Test
  void aTimestampedDslStoreAnswersTheSerdesBytesOfEveryValueAtTheTypedReadsPosition() {
    StreamsBuilder builder = new StreamsBuilder(BackboneStores.topologyConfig(Map.of()));
    builder.table(
        "in",
        Consumed.with(Serdes.String(), Serdes.String()),
        Materialized.<String, String>as(BackboneStores.persistentTimestampedKeyValueStore(STORE))
            .withKeySerde(Serdes.String())
            .withValueSerde(Serdes.String()));
    checkAgainstTypedReads(builder.build(), true);
  }

  @Test
  void aPlainStoreOfTheProcessorApiAnswersTheSerdesBytesOfEveryValue() {
    Topology topology = new Topology(BackboneStores.topologyConfig(Map.of()));
    topology.addSource(
        "source", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), "in");
    topology.addProcessor("put", Put::new, "source");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
            BackboneStores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.String()),
        "put");
    checkAgainstTypedReads(topology, true);
  }

  @Test
  void aPlainStoreUnderTheDslsTimestampAdapterIsNotAskedForStoredBytes() {
    StreamsBuilder builder = new StreamsBuilder(BackboneStores.topologyConfig(Map.of()));
    builder.table(
        "in",
        Consumed.with(Serdes.String(), Serdes.String()),
        Materialized.<String, String>as(plain())
            .withKeySerde(Serdes.String())
            .withValueSerde(Serdes.String()));
    checkAgainstTypedReads(builder.build(), false);
  }

  @Test
  void aStoreInTheHeadersFormatAnswersStoredValueQueriesAsUnknown() {
    TestStoreContext context =
        new TestStoreContext(dir.resolve("headers"), TASK, StreamsConfig.AT_LEAST_ONCE);
    HeadersBackboneKeyValueStore store = new HeadersBackboneKeyValueStore(STORE);
    store.init(context, store);
    try {
      store.put(key("a"), "framed".getBytes(StandardCharsets.UTF_8));
      QueryResult<byte[]> result =
          store.query(
              new StoredValueQuery(key("a")), PositionBound.unbounded(), new QueryConfig(false));
      assertThat(result.isFailure()).isTrue();
      assertThat(result.getFailureReason()).isEqualTo(FailureReason.UNKNOWN_QUERY_TYPE);
    } finally {
      store.close();
    }
  }

  private static KeyValueBytesStoreSupplier plain() {
    return BackboneStores.persistentKeyValueStore(STORE);
  }

  /**
   * Writes random values to random keys (some written again, some deleted), then reads every key
   * both ways through the index's store, at both isolation levels.
   */
  private void checkAgainstTypedReads(Topology topology, boolean storedValues) {
    ServingTasks index = new ServingTasks();
    Random random = new Random(SEED);
    Map<String, String> expected = new HashMap<>();
    try (TopologyTestDriver driver = new TopologyTestDriver(topology, props(index))) {
      TestInputTopic<String, String> in =
          driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
      for (int i = 0; i < 400; i++) {
        String k = "k-" + random.nextInt(120);
        String v = random.nextInt(10) == 0 ? null : "{\"n\":" + random.nextLong() + ",\"é\":\"ü\"}";
        in.pipeInput(k, v);
        if (v == null) {
          expected.remove(k);
        } else {
          expected.put(k, v);
        }
      }
      ServingTasks.Serving serving = index.serving(TASK, STORE).orElseThrow();
      assertThat(serving.storedValues()).as("seed %d", SEED).isEqualTo(storedValues);
      for (IsolationLevel isolation : IsolationLevel.values()) {
        QueryConfig config = new QueryConfig(false, isolation);
        for (int i = 0; i < 130; i++) {
          String k = "k-" + i;
          QueryResult<String> typed =
              serving
                  .store()
                  .query(KeyQuery.<String, String>withKey(k), PositionBound.unbounded(), config);
          assertThat(typed.isSuccess()).as("%s %s", k, typed).isTrue();
          assertThat(typed.getResult()).as("typed %s, seed %d", k, SEED).isEqualTo(expected.get(k));
          if (!storedValues) {
            continue;
          }
          QueryResult<byte[]> stored =
              serving
                  .store()
                  .query(new StoredValueQuery(key(k)), PositionBound.unbounded(), config);
          assertThat(stored.isSuccess()).as("%s %s", k, stored).isTrue();
          byte[] want =
              expected.get(k) == null ? null : expected.get(k).getBytes(StandardCharsets.UTF_8);
          assertThat(stored.getResult()).as("stored %s, seed %d", k, SEED).isEqualTo(want);
          assertThat(stored.getPosition()).isEqualTo(typed.getPosition());
        }
      }
    }
  }

  private static Bytes key(String k) {
    return Bytes.wrap(k.getBytes(StandardCharsets.UTF_8));
  }

  private Properties props(ServingTasks index) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "stored-value-query-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    props.put(ServingTasks.CONFIG, index);
    return props;
  }

  /** Puts every record into the store, a null value deleting its key. */
  private static final class Put implements Processor<byte[], byte[], Void, Void> {
    private KeyValueStore<String, String> store;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      store = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
      String k = new String(record.key(), StandardCharsets.UTF_8);
      if (record.value() == null) {
        store.delete(k);
      } else {
        store.put(k, new String(record.value(), StandardCharsets.UTF_8));
      }
    }
  }
}
