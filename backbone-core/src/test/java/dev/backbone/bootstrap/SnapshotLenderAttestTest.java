package dev.backbone.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.store.TestStoreContext;
import dev.backbone.store.internals.BackboneKeyValueStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.internals.RecordBatchingStateRestoreCallback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A lender vouching for the freshness of a standby's snapshot: a real store fed as Kafka Streams
 * feeds a standby (restored records with their offsets, commits without processing writes), and a
 * scripted changelog (the Kafka-backed probe is tested against a real broker in backbone-server).
 */
class SnapshotLenderAttestTest {
  private static final TaskId TASK = new TaskId(0, 1);
  private static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 1);

  @TempDir Path dir;
  private TestStoreContext context;
  private BackboneKeyValueStore standby;
  private final List<String> probed = new ArrayList<>();

  /** A changelog whose end and records in a range the test sets. */
  private final class ScriptedChangelog implements ChangelogProbe {
    volatile long end;
    volatile OptionalLong lastRecord = OptionalLong.empty();
    volatile RuntimeException failure;

    @Override
    public Map<TopicPartition, Long> endOffsets(Set<TopicPartition> partitions) {
      if (failure != null) {
        throw failure;
      }
      probed.add("end " + partitions);
      return Map.of(CHANGELOG, end);
    }

    @Override
    public OptionalLong lastRecordBetween(
        TopicPartition partition, long from, long to, Duration timeout) {
      probed.add("records " + partition + " [" + from + ", " + to + ")");
      return lastRecord;
    }
  }

  private final ScriptedChangelog changelog = new ScriptedChangelog();

  @BeforeEach
  void open() {
    context = new TestStoreContext(dir.resolve("task"), TASK, StreamsConfig.AT_LEAST_ONCE);
    standby = new BackboneKeyValueStore("s");
    standby.init(context, standby);
    restore(0, 49);
    standby.commit(Map.of(CHANGELOG, 49L)); // a standby's commit: offsets, no processing writes
    restore(50, 59); // restored since, not committed yet
  }

  @AfterEach
  void close() {
    standby.close();
  }

  private void restore(int first, int last) {
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int o = first; o <= last; o++) {
      records.add(
          new ConsumerRecord<>(
              CHANGELOG.topic(),
              CHANGELOG.partition(),
              o,
              ("k" + o).getBytes(StandardCharsets.UTF_8),
              new byte[] {(byte) o}));
    }
    ((RecordBatchingStateRestoreCallback) context.restoreCallback()).restoreBatch(records);
  }

  private SnapshotLender lender(ChangelogProbe probe) {
    return new SnapshotLender(
        context.stores(),
        new SnapshotLender.Settings(4, Duration.ofMinutes(10), Duration.ZERO),
        Clock.systemUTC(),
        probe);
  }

  @Test
  void aStandbyThatHasAppliedEverythingBeforeTheEndIsVouchedFor() {
    changelog.end = 62; // 60 and 61 are transaction markers: a read_committed reader gets nothing
    assertThat(standby.dataAsOf()).as("a standby never commits processing writes").isEmpty();
    assertThat(standby.appliedOffsets()).containsEntry(CHANGELOG, 59L);
    Instant before = Instant.now();
    try (SnapshotLender lender = lender(changelog)) {
      SnapshotLender.Loan loan = lender.lend("app", TASK, "s");

      assertThat(probed)
          .containsExactly("end [" + CHANGELOG + "]", "records " + CHANGELOG + " [60, 62)");
      assertThat(loan.manifest().dataAsOf())
          .as("the time the end was read, less the margin")
          .isBetween(
              before.minus(SnapshotLender.ATTEST_MARGIN),
              Instant.now().minus(SnapshotLender.ATTEST_MARGIN));
      assertThat(loan.manifest().offsetOf(CHANGELOG.topic(), CHANGELOG.partition()))
          .as("the offset stays the committed one: the tail replays from there")
          .contains(49L);
      assertThat(loan.manifestJson()).contains(loan.manifest().dataAsOf().toString());
    }
  }

  @Test
  void aStandbyBehindTheEndIsVouchedForOnceItHasAppliedWhatWasThere() throws Exception {
    changelog.end = 70;
    changelog.lastRecord = OptionalLong.of(65);
    try (SnapshotLender lender = lender(changelog)) {
      CompletableFuture<Void> catchUp =
          CompletableFuture.runAsync(
              () -> restore(60, 65), CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS));
      SnapshotLender.Loan loan = lender.lend("app", TASK, "s");
      catchUp.get(5, TimeUnit.SECONDS);

      assertThat(loan.manifest().dataAsOf()).isNotNull();
      assertThat(standby.appliedOffsets()).containsEntry(CHANGELOG, 65L);
    }
  }

  @Test
  void aStandbyThatDoesNotCatchUpIsLentWithoutADataAsOf() {
    changelog.end = 70;
    changelog.lastRecord = OptionalLong.of(65); // never restored here
    try (SnapshotLender lender = lender(changelog)) {
      long start = System.nanoTime();
      SnapshotLender.Loan loan = lender.lend("app", TASK, "s");

      assertThat(loan.manifest().dataAsOf())
          .as("nothing vouched for: a borrower cannot install it and tries another replica")
          .isNull();
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("gave up after the bound")
          .isGreaterThanOrEqualTo(SnapshotLender.ATTEST_TIMEOUT);
    }
  }

  @Test
  void aChangelogThatCannotBeReadLeavesTheStoresOwnDataAsOf() {
    changelog.failure = new IllegalStateException("broker unreachable");
    try (SnapshotLender lender = lender(changelog)) {
      assertThat(lender.lend("app", TASK, "s").manifest().dataAsOf()).isNull();
    }
  }

  @Test
  void anActiveThatCommittedMomentsAgoIsLentWithItsOwnDataAsOfWithoutReadingTheChangelog() {
    standby.put(Bytes.wrap("p".getBytes(StandardCharsets.UTF_8)), new byte[] {1});
    standby.commit(Map.of(CHANGELOG, 60L)); // a processing commit
    Instant own = standby.dataAsOf().orElseThrow();
    try (SnapshotLender lender = lender(changelog)) {
      assertThat(lender.lend("app", TASK, "s").manifest().dataAsOf()).isEqualTo(own);
      assertThat(probed).isEmpty();
    }
  }

  @Test
  void withoutAProbeEverySnapshotCarriesItsStoresOwnDataAsOf() {
    try (SnapshotLender lender = lender(null)) {
      assertThat(lender.lend("app", TASK, "s").manifest().dataAsOf()).isNull();
    }
  }
}
