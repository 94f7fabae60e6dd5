package dev.backbone.examples.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.backbone.errors.FatalBackboneException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Runs against a {@link RecordSink} that records what it is given: these tests are about pacing,
 * stopping and counting, not about Kafka (a broker run belongs in an integration test).
 */
class LoadGeneratorTest {

  /**
   * Remembers every record; fails every {@code failEvery}-th send through its callback, at once or,
   * like a producer whose batches are still in flight, only when flushed.
   */
  private static final class RecordingSink implements RecordSink {
    final List<ProducerRecord<String, String>> records = new CopyOnWriteArrayList<>();
    final int failEvery;
    final boolean completeOnFlush;
    final List<Runnable> pending = new ArrayList<>();
    volatile boolean flushed;

    RecordingSink(int failEvery) {
      this(failEvery, false);
    }

    RecordingSink(int failEvery, boolean completeOnFlush) {
      this.failEvery = failEvery;
      this.completeOnFlush = completeOnFlush;
    }

    @Override
    public void send(ProducerRecord<String, String> record, Callback callback) {
      records.add(record);
      boolean fail = failEvery > 0 && records.size() % failEvery == 0;
      Runnable complete =
          () ->
              callback.onCompletion(
                  null, fail ? new IllegalStateException("broker said no") : null);
      if (completeOnFlush) {
        pending.add(complete);
      } else {
        complete.run();
      }
    }

    @Override
    public void flush() {
      pending.forEach(Runnable::run);
      pending.clear();
      flushed = true;
    }
  }

  @Test
  void sendsTheGeneratedSequenceAndReportsCounts() {
    LoadSpec spec = LoadSpec.ofEvents(500).withBadRatio(0.2).withTopic("load-test");
    RecordingSink sink = new RecordingSink(0);

    LoadGenerator generator = new LoadGenerator();
    LoadReport report = generator.run(spec, sink, null);

    EventStream expected = new LoadGenerator().events(spec);
    List<ProducerRecord<String, String>> expectedRecords = new ArrayList<>();
    expected.forEachRemaining(expectedRecords::add);
    assertThat(sink.records).isEqualTo(expectedRecords);
    assertThat(sink.flushed).isTrue();
    assertThat(report.sent()).isEqualTo(500);
    assertThat(report.bad()).isEqualTo(expected.bad()).isPositive();
    assertThat(report.failed()).isZero();
    assertThat(report.acknowledged()).isEqualTo(500);
    assertThat(report.acknowledgedBad()).isEqualTo(report.bad());
    assertThat(report.acknowledgedValid()).isEqualTo(500 - report.bad());
    assertThat(generator.sentSoFar()).isEqualTo(500);
    assertThat(generator.badSoFar()).isEqualTo(report.bad());
  }

  @Test
  void pacesToTheTargetRate() {
    LoadSpec spec = LoadSpec.ofEvents(100).withEventsPerSecond(500);

    LoadReport report = new LoadGenerator().run(spec, new RecordingSink(0), null);

    // The 100th event is due 99 * 2 ms after the first.
    assertThat(report.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(198));
    assertThat(report.eventsPerSecond()).isLessThanOrEqualTo(510);
    assertThat(report.elapsed()).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void aDurationBoundRunEndsOnTime() {
    LoadSpec spec = LoadSpec.ofDuration(Duration.ofMillis(300)).withEventsPerSecond(200);
    RecordingSink sink = new RecordingSink(0);

    LoadReport report = new LoadGenerator().run(spec, sink, null);

    assertThat(report.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    assertThat(report.sent()).isBetween(20L, 61L).isEqualTo(sink.records.size());
  }

  @Test
  void stopsFromAnotherThreadAndStillFlushesAndReports() {
    LoadGenerator generator = new LoadGenerator();
    RecordingSink sink = new RecordingSink(0);
    LoadSpec spec = LoadSpec.ofDuration(Duration.ofHours(1)).withEventsPerSecond(50);

    CompletableFuture<LoadReport> run =
        CompletableFuture.supplyAsync(() -> generator.run(spec, sink, null));
    await().atMost(5, TimeUnit.SECONDS).until(() -> generator.sentSoFar() >= 3);
    generator.stop();

    LoadReport report = run.orTimeout(5, TimeUnit.SECONDS).join();
    assertThat(report.sent()).isEqualTo(sink.records.size());
    assertThat(generator.sentSoFar()).isEqualTo(report.sent());
    assertThat(sink.flushed).isTrue();
    assertThat(generator.run(LoadSpec.ofEvents(10), sink, null).sent()).isZero();
  }

  @Test
  void stopsAtTheFirstFailedSendAndNamesTheCount() {
    RecordingSink sink = new RecordingSink(10);

    assertThatThrownBy(() -> new LoadGenerator().run(LoadSpec.ofEvents(100), sink, null))
        .isInstanceOfSatisfying(
            UndeliveredEventsException.class,
            e -> {
              assertThat(e.code()).isEqualTo(UndeliveredEventsException.CODE);
              assertThat(e.report().sent()).isEqualTo(10);
              assertThat(e.report().failed()).isEqualTo(1);
              assertThat(e.report().acknowledged()).isEqualTo(9);
            })
        .hasMessageStartingWith(
            "1 of 10 events sent to topic customer-events were not acknowledged")
        .hasRootCauseMessage("broker said no");
    assertThat(sink.records).hasSize(10);
    assertThat(sink.flushed).isTrue();
  }

  @Test
  void countsEveryFailureThatTheFlushReports() {
    RecordingSink sink = new RecordingSink(10, true);

    assertThatThrownBy(() -> new LoadGenerator().run(LoadSpec.ofEvents(100), sink, null))
        .isInstanceOfSatisfying(
            UndeliveredEventsException.class,
            e -> {
              assertThat(e.report().failed()).isEqualTo(10);
              assertThat(e.report().acknowledged()).isEqualTo(90);
            })
        .hasMessageStartingWith("10 of 100 events");
  }

  @Test
  void reportsProgressWhileRunning() {
    List<LoadReport> progress = Collections.synchronizedList(new ArrayList<>());
    LoadSpec spec = LoadSpec.ofEvents(100).withEventsPerSecond(250);

    new LoadGenerator(Duration.ofMillis(50)).run(spec, new RecordingSink(0), progress::add);

    assertThat(progress).hasSizeGreaterThanOrEqualTo(3);
    for (int i = 1; i < progress.size(); i++) {
      assertThat(progress.get(i).sent()).isGreaterThanOrEqualTo(progress.get(i - 1).sent());
      assertThat(progress.get(i).elapsed()).isGreaterThan(progress.get(i - 1).elapsed());
    }
    assertThat(progress.get(progress.size() - 1).sent()).isBetween(1L, 100L);
  }

  @Test
  void refusesAnInvalidSpecBeforeSendingAnything() {
    RecordingSink sink = new RecordingSink(0);
    LoadSpec invalid = new LoadSpec("t", 1, 1, 0, 10, Duration.ofSeconds(1), 1, 0);

    assertThatThrownBy(() -> new LoadGenerator().run(invalid, sink, null))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("exactly one of totalEvents and duration");
    assertThat(sink.records).isEmpty();
  }

  @Test
  void refusesANonPositiveProgressInterval() {
    assertThatThrownBy(() -> new LoadGenerator(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("progressInterval");
  }
}
