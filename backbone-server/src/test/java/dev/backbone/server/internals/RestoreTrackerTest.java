package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.server.internals.RestoreTracker.Phase;
import dev.backbone.server.internals.RestoreTracker.Replica;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.Gauge;
import org.apache.kafka.common.metrics.Metrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The tracker fed in the order Kafka Streams 4.4 produces its events: {@code
 * MeteredKeyValueStore#init} registers the store's metrics (here: the same {@link Metrics} registry
 * calls that {@code StreamsMetricsImpl#addStoreLevelMutableMetric} makes) before {@code
 * TaskManager#addTaskToStateUpdater} makes the task queryable; {@code
 * StoreChangelogReader#prepareChangelogs} then calls {@code onRestoreStart}, {@code
 * #restoreChangelog} {@code onBatchRestored} and {@code onRestoreEnd}; {@code
 * MeteredKeyValueStore#close} removes the metrics ({@code
 * StreamsMetricsImpl#removeAllStoreLevelSensorsAndMetrics}).
 */
class RestoreTrackerTest {
  private static final String STORE = "profiles";
  private static final TopicPartition CHANGELOG = new TopicPartition("app-profiles-changelog", 3);

  private final RestoreTracker tracker = new RestoreTracker();
  private final Metrics metrics = new Metrics();

  RestoreTrackerTest() {
    RestoreTracker.StoreLifecycleReporter reporter = new RestoreTracker.StoreLifecycleReporter();
    reporter.configure(Map.of(RestoreTracker.TRACKER_CONFIG, tracker));
    metrics.addReporter(reporter);
  }

  @AfterEach
  void close() {
    metrics.close();
  }

  @Test
  void anActiveIsCaughtUpOnlyOnceItsRestoreEnded() {
    openStore("0_3");
    assertThat(replica().phase()).isEqualTo(Phase.OPENED);
    assertThat(replica().caughtUp()).isFalse();

    tracker.onRestoreStart(CHANGELOG, STORE, 100, 1_100);
    assertThat(replica().phase()).isEqualTo(Phase.RESTORING);
    assertThat(replica().lag()).isEqualTo(1_000);

    tracker.onBatchRestored(CHANGELOG, STORE, 599, 500);
    assertThat(replica().lag()).isEqualTo(500);
    assertThat(replica().caughtUp()).isFalse();

    tracker.onRestoreEnd(CHANGELOG, STORE, 1_000);
    assertThat(replica().caughtUp()).isTrue();
    assertThat(replica().lag()).isZero();
  }

  @Test
  void aStoreReopenedAfterACorruptionWipeIsNotCaughtUpBeforeItsRestoreStarts() {
    openStore("0_3");
    tracker.onRestoreStart(CHANGELOG, STORE, 0, 10);
    tracker.onRestoreEnd(CHANGELOG, STORE, 10);
    Replica caughtUp = replica();

    // TaskManager#closeDirtyAndRevive: closeDirty (metrics removed), wipe, initializeIfNeeded
    // (metrics registered again), then the state updater; onRestoreStart comes only after that.
    closeStore("0_3");
    assertThat(replica().phase()).isEqualTo(Phase.CLOSED);
    openStore("0_3");

    Replica reopened = replica();
    assertThat(reopened.caughtUp()).isFalse();
    assertThat(reopened.incarnation()).isNotEqualTo(caughtUp.incarnation());
    assertThat(reopened).isNotEqualTo(caughtUp);
  }

  @Test
  void aRestoreSuspendedBecauseTheTaskLeftIsNotCaughtUp() {
    openStore("0_3");
    tracker.onRestoreStart(CHANGELOG, STORE, 0, 10);

    tracker.onRestoreSuspended(CHANGELOG, STORE, 4);

    assertThat(replica().phase()).isEqualTo(Phase.CLOSED);
    assertThat(replica().lag()).isEqualTo(-1);
  }

  @Test
  void otherMetricsAndOtherStoresLeaveAPartitionAlone() {
    openStore("0_3");
    tracker.onRestoreStart(CHANGELOG, STORE, 0, 0);
    tracker.onRestoreEnd(CHANGELOG, STORE, 0);
    Replica before = replica();

    addStoreMetric(metrics, "put-rate", "0_3", STORE);
    addStoreMetric(metrics, RestoreTracker.OPEN_MARKER_METRIC, "0_3", "other");
    addStoreMetric(metrics, RestoreTracker.OPEN_MARKER_METRIC, "0_4", STORE);

    assertThat(replica()).isEqualTo(before);
    assertThat(tracker.replica("other", 3).phase()).isEqualTo(Phase.OPENED);
    assertThat(tracker.replica(STORE, 4).phase()).isEqualTo(Phase.OPENED);
  }

  @Test
  void aReporterInsideAClientHasNoTrackerAndDoesNothing() {
    RestoreTracker.StoreLifecycleReporter inClient = new RestoreTracker.StoreLifecycleReporter();
    inClient.configure(Map.of("client.id", "app-StreamThread-1-consumer"));
    try (Metrics clientMetrics = new Metrics()) {
      clientMetrics.addReporter(inClient);
      addStoreMetric(clientMetrics, RestoreTracker.OPEN_MARKER_METRIC, "0_3", STORE);
    }
    assertThat(tracker.replica(STORE, 3)).isNull();
  }

  @Test
  void aPartitionNeverOpenedHereIsUnknown() {
    assertThat(tracker.replica(STORE, 9)).isNull();
  }

  private Replica replica() {
    return tracker.replica(STORE, CHANGELOG.partition());
  }

  private void openStore(String taskId) {
    addStoreMetric(metrics, RestoreTracker.OPEN_MARKER_METRIC, taskId, STORE);
  }

  private void closeStore(String taskId) {
    metrics.removeMetric(storeMetric(metrics, RestoreTracker.OPEN_MARKER_METRIC, taskId, STORE));
  }

  private static void addStoreMetric(Metrics registry, String name, String taskId, String store) {
    registry.addMetricIfAbsent(
        storeMetric(registry, name, taskId, store), null, (Gauge<Long>) (config, now) -> 0L);
  }

  private static MetricName storeMetric(
      Metrics registry, String name, String taskId, String store) {
    return registry.metricName(name, RestoreTracker.STORE_METRIC_GROUP, "", tags(taskId, store));
  }

  /** The tags of StreamsMetricsImpl#storeLevelTagMap: thread, task, {@code <scope>-state-id}. */
  private static Map<String, String> tags(String taskId, String store) {
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put("thread-id", "app-StreamThread-1");
    tags.put("task-id", taskId);
    tags.put("rocksdb-state-id", store);
    return tags;
  }
}
