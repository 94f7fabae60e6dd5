package dev.backbone.examples.profiles;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.store.BackboneClientSupplier;
import dev.backbone.store.SnapshotStores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state stage materializes profiles in the store kind its settings name. */
class StoreKindTest {
  @TempDir Path dir;

  private boolean runsOnBackboneStore(StoreKind kind, String appId) {
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(PipelineSettings.defaults(appId).withStore(kind));
    Properties base = new Properties();
    base.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    base.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
    SnapshotStores stores = new SnapshotStores();
    base.put(SnapshotStores.CONFIG, stores);
    try (TopologyTestDriver driver =
        new TopologyTestDriver(pipeline.stateTopology(), pipeline.stateProperties(base))) {
      TestInputTopic<byte[], byte[]> keyed =
          driver.createInputTopic(
              pipeline.keyedEventsTopic(), new ByteArraySerializer(), new ByteArraySerializer());
      keyed.pipeInput(
          "c-1".getBytes(StandardCharsets.UTF_8),
          "{\"customerId\":\"c-1\",\"type\":\"view\",\"ts\":5}".getBytes(StandardCharsets.UTF_8));
      assertThat(
              driver
                  .<String, CustomerProfile>getKeyValueStore(CustomerProfilePipeline.PROFILE_STORE)
                  .get("c-1"))
          .isNotNull();
      return stores
          .find(appId, new TaskId(0, 0), CustomerProfilePipeline.PROFILE_STORE)
          .isPresent();
    }
  }

  @Test
  void usesTheBackboneStoreByDefault() {
    assertThat(PipelineSettings.defaults("a").store()).isEqualTo(StoreKind.BACKBONE);
    assertThat(runsOnBackboneStore(StoreKind.BACKBONE, "kind-backbone")).isTrue();
  }

  @Test
  void backboneStoresGetTransactionalStateStoresAndTheClientSupplierThatReportsTransactions() {
    Properties base = new Properties();
    Properties backbone =
        new CustomerProfilePipeline(PipelineSettings.defaults("a")).stateProperties(base);
    assertThat(backbone.get(StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG))
        .isEqualTo(BackboneClientSupplier.class);
    assertThat(backbone.get(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG)).isEqualTo(true);
    assertThat(
            new CustomerProfilePipeline(PipelineSettings.defaults("a").withStore(StoreKind.STOCK))
                .stateProperties(base))
        .doesNotContainKeys(
            StreamsConfig.DEFAULT_CLIENT_SUPPLIER_CONFIG,
            StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG);
  }

  @Test
  void stockSwitchesBackToKafkaStreamsStore() {
    assertThat(runsOnBackboneStore(StoreKind.STOCK, "kind-stock")).isFalse();
  }

  @Test
  void parsesCliNames() {
    assertThat(StoreKind.parse("Stock")).isEqualTo(StoreKind.STOCK);
    assertThat(StoreKind.parse("backbone")).isEqualTo(StoreKind.BACKBONE);
  }
}
