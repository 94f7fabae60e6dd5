package dev.backbone.server;

import dev.backbone.examples.profiles.StoreKind;
import dev.backbone.store.BackboneStores;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.TaskCorruptedException;
import org.apache.kafka.streams.errors.TaskMigratedException;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Nodes with one stage that counts the events of each key into a queryable table, so that a key's
 * value after its first {@code k} events is exactly {@code k}; and one injectable fault, an event
 * whose value is {@value #FAULT} that makes the task fail the way Kafka Streams fails it for real.
 */
final class CountingNodes {
  static final String STAGE = "counts";
  static final String STORE = "event-counts";

  /** The value of the event that fires the fault; it is never counted. */
  static final String FAULT = "fault";

  private CountingNodes() {}

  /** How the task fails on the fault event. */
  enum FaultKind {
    /**
     * {@link TaskCorruptedException}, as {@code RocksDBStore} or {@code StoreChangelogReader} throw
     * it: {@code StreamThread} catches it and calls {@code TaskManager#handleCorruption}, which
     * closes the task dirty (under exactly-once its state directory is wiped), revives it and hands
     * it to the state updater to restore, while the thread stays {@code RUNNING}.
     */
    CORRUPT_TASK,
    /**
     * {@link TaskMigratedException}, as a fenced producer raises it: {@code StreamThread
     * #handleTaskMigrated} closes every task dirty (the open transaction is aborted) and rejoins.
     */
    MIGRATE_TASK
  }

  /** Fires the fault once, for the first fault event any node processes. */
  static final class FaultSwitch {
    private final FaultKind kind;
    private final AtomicBoolean fired = new AtomicBoolean();

    FaultSwitch(FaultKind kind) {
      this.kind = kind;
    }

    boolean fired() {
      return fired.get();
    }
  }

  /**
   * A counting application.
   *
   * @param applicationId its application id
   * @param topic where its events arrive
   * @param guarantee its processing guarantee
   * @param store the store implementation
   */
  record App(String applicationId, String topic, String guarantee, StoreKind store) {
    static App create(
        TestKafkaCluster kafka, String prefix, int partitions, String guarantee, StoreKind store) {
      App app =
          new App(kafka.uniqueName(prefix), kafka.uniqueName(prefix + "-events"), guarantee, store);
      kafka.createTopic(app.topic(), partitions);
      return app;
    }
  }

  /** A node of the application, on a free HTTP port; {@code extra} adds stage settings. */
  static BackboneNode node(
      TestKafkaCluster kafka,
      App app,
      String nodeId,
      Path stateDir,
      FaultSwitch fault,
      Properties extra) {
    Properties nodeProps = kafka.clientProperties();
    nodeProps.setProperty("backbone.node.id", nodeId);
    nodeProps.setProperty("backbone.http.port", "0");
    nodeProps.setProperty("backbone.http.forward.timeout.ms", "3000");
    nodeProps.setProperty(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    Properties stage = new Properties();
    stage.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, app.applicationId());
    stage.setProperty(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, app.guarantee());
    stage.setProperty(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
    stage.setProperty(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");
    stage.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, app.store().dslStoreSuppliers());
    if (app.store() == StoreKind.BACKBONE) {
      stage.putAll(BackboneStores.streamsSettings());
    }
    stage.putAll(extra);
    return BackboneNode.builder()
        .properties(nodeProps)
        .stage(new StreamsStage(STAGE, topology(app, fault), stage))
        .queryableStore(QueryableStore.<Long>withStringKeys(STORE, STAGE, Function.identity()))
        .build();
  }

  private static Topology topology(App app, FaultSwitch fault) {
    // With Backbone's processor wrapper: Backbone stores are read on the direct path.
    StreamsBuilder builder =
        new StreamsBuilder(
            BackboneStores.topologyConfig(
                Map.of(
                    StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                    app.store().dslStoreSuppliers())));
    builder.stream(app.topic(), Consumed.with(Serdes.String(), Serdes.String()))
        .processValues(() -> new FaultInjector(fault))
        .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
        .count(
            Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as(STORE)
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.Long()));
    return builder.build();
  }

  /** Forwards every event but the fault event, which throws once and is dropped afterwards. */
  private static final class FaultInjector implements FixedKeyProcessor<String, String, String> {
    private final FaultSwitch fault;
    private FixedKeyProcessorContext<String, String> context;

    FaultInjector(FaultSwitch fault) {
      this.fault = fault;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, String> context) {
      this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, String> record) {
      if (!FAULT.equals(record.value())) {
        context.forward(record);
        return;
      }
      if (fault != null && fault.fired.compareAndSet(false, true)) {
        // Thrown as is: ProcessorNode#process rethrows both without the processing handler.
        throw switch (fault.kind) {
          case CORRUPT_TASK -> new TaskCorruptedException(Set.of(context.taskId()));
          case MIGRATE_TASK -> new TaskMigratedException("fault injected by the test");
        };
      }
    }
  }
}
