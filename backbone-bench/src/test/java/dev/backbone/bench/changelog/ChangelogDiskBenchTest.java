package dev.backbone.bench.changelog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class ChangelogDiskBenchTest {
  private static final long START = 1_700_000_000_000L;

  private record Write(long timestampMs, long key, boolean tombstone) {}

  private static List<Write> writes(ChurnWorkload.Shape shape) {
    List<Write> out = new ArrayList<>();
    ChurnWorkload workload = new ChurnWorkload(shape);
    for (int h = 0; h < shape.hours(); h++) {
      workload.writeHour(h, START, (ts, key, tombstone) -> out.add(new Write(ts, key, tombstone)));
    }
    return out;
  }

  @Test
  void theSameSeedWritesTheSameStreamAndAnotherSeedAnother() {
    ChurnWorkload.Shape shape = new ChurnWorkload.Shape(5, 300, 700, 5, 1.0, 42);

    assertThat(writes(shape)).isEqualTo(writes(shape));
    assertThat(writes(new ChurnWorkload.Shape(5, 300, 700, 5, 1.0, 43)))
        .isNotEqualTo(writes(shape));
  }

  @Test
  void everyHourHasItsNewKeysAndUpdatesSpreadOverThatHour() {
    ChurnWorkload.Shape shape = new ChurnWorkload.Shape(4, 250, 750, 10, 1.2, 7);
    List<Write> writes = writes(shape);

    assertThat(writes).hasSize(4 * 1000);
    long created = 0;
    for (int h = 0; h < 4; h++) {
      List<Write> hour = writes.subList(h * 1000, (h + 1) * 1000);
      long hourStart = START + h * ChurnWorkload.HOUR_MS;
      assertThat(hour)
          .allMatch(
              w ->
                  w.timestampMs() >= hourStart
                      && w.timestampMs() < hourStart + ChurnWorkload.HOUR_MS);
      long newKeys = 0;
      for (int i = 0; i < hour.size(); i++) {
        Write w = hour.get(i);
        if (i > 0) {
          assertThat(w.timestampMs()).isGreaterThanOrEqualTo(hour.get(i - 1).timestampMs());
        }
        assertThat(w.key()).isLessThanOrEqualTo(created);
        if (w.key() == created) {
          assertThat(w.tombstone()).as("a new key starts with a value").isFalse();
          created++;
          newKeys++;
        }
      }
      assertThat(newKeys).as("new keys in hour %d", h).isEqualTo(250);
    }
  }

  @Test
  void liveKeysAreTheKeysWhoseLastWriteIsAValue() {
    ChurnWorkload.Shape shape = new ChurnWorkload.Shape(6, 200, 800, 20, 0.8, 3);
    ChurnWorkload workload = new ChurnWorkload(shape);
    Map<Long, Boolean> last = new HashMap<>();
    long[] tombstones = new long[1];
    for (int h = 0; h < shape.hours(); h++) {
      workload.writeHour(
          h,
          START,
          (ts, key, tombstone) -> {
            last.put(key, tombstone);
            tombstones[0] += tombstone ? 1 : 0;
          });
    }

    assertThat(tombstones[0]).as("20%% of updates delete").isBetween(800L, 1120L);
    assertThat(workload.keysCreated()).isEqualTo(last.size()).isEqualTo(1200);
    assertThat(workload.liveKeys()).isEqualTo(last.values().stream().filter(t -> !t).count());
  }

  @Property(tries = 300)
  void recencyRanksStayInRangeAndGrowWithU(
      @ForAll @LongRange(min = 1, max = 10_000_000) long n,
      @ForAll @DoubleRange(min = 0.2, max = 3) double s,
      @ForAll @DoubleRange(min = 0, max = 1, maxIncluded = false) double u) {
    long rank = ChurnWorkload.recencyRank(n, s, u);

    assertThat(rank).isBetween(1L, n);
    assertThat(ChurnWorkload.recencyRank(n, s, Math.min(u + 0.01, 0.999_999)))
        .isGreaterThanOrEqualTo(rank);
    assertThat(ChurnWorkload.recencyRank(n, s, 0)).isEqualTo(1);
  }

  @Test
  void updatesFavourRecentKeysAsAZipfLaw() {
    // s = 1 on 1000 keys: P(rank <= 10) = ln(11) / ln(1001), about 0.347.
    int top10 = 0;
    int samples = 100_000;
    for (int i = 0; i < samples; i++) {
      if (ChurnWorkload.recencyRank(1000, 1.0, (i + 0.5) / samples) <= 10) {
        top10++;
      }
    }
    assertThat(top10 / (double) samples).isBetween(0.34, 0.355);
  }

  @Test
  void aShapeThatCannotRunIsRefusedWithItsValues() {
    assertThatThrownBy(() -> new ChurnWorkload.Shape(0, 1, 0, 0, 1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hours=0");
    assertThatThrownBy(() -> new ChurnWorkload.Shape(1, 1, 0, 101, 1, 0))
        .hasMessageContaining("deletePercent=101");
    assertThatThrownBy(() -> new ChurnWorkload.Shape(1, 1, 0, 0, 0, 0))
        .hasMessageContaining("zipfExponent=0.0");
  }

  @Test
  void theWindowCountsTheWholeMinutesFromTheCutoff() {
    WriteTally tally = new WriteTally(START, 2);
    tally.add(START, 100); // minute 0
    tally.add(START + 59_999, 1); // minute 0
    tally.add(START + 60_000, 10); // minute 1
    tally.add(START + 2 * ChurnWorkload.HOUR_MS - 1, 1000); // the last minute

    assertThat(tally.bytes()).isEqualTo(1111);
    assertThat(tally.records()).isEqualTo(4);
    assertThat(tally.bytesSince(START - 5)).isEqualTo(1111);
    assertThat(tally.bytesSince(START)).isEqualTo(1111);
    assertThat(tally.bytesSince(START + 1)).as("minute 0 holds the cutoff").isEqualTo(1010);
    assertThat(tally.bytesSince(START + 60_000)).isEqualTo(1010);
    assertThat(tally.bytesSince(START + 3 * ChurnWorkload.HOUR_MS)).isZero();
    assertThatThrownBy(() -> tally.add(START + 2 * ChurnWorkload.HOUR_MS, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void settledOnlyAfterTheSizesStayTheSameForTheQuietPeriod() {
    SettleDetector d = new SettleDetector(Duration.ofSeconds(10), 3);

    assertThat(d.offer(0, 100, 50)).as("one sample says nothing").isFalse();
    assertThat(d.offer(1_000, 90, 50)).isFalse();
    assertThat(d.offer(10_000, 90, 50)).isFalse();
    assertThat(d.offer(10_999, 90, 50)).isFalse();
    assertThat(d.offer(11_000, 90, 50)).isTrue();
  }

  @Test
  void aLongCleaningPassStretchesTheQuietPeriod() {
    SettleDetector d = new SettleDetector(Duration.ofSeconds(10), 3);
    d.offer(0, 100, 50);
    d.offer(8_000, 100, 40); // 8 s without a step, then one: quiet is now 24 s

    assertThat(d.quietMs()).isEqualTo(24_000);
    assertThat(d.offer(30_000, 100, 40)).isFalse();
    assertThat(d.offer(32_000, 100, 40)).isTrue();
  }

  @Test
  void growthCountsAsActivity() {
    SettleDetector d = new SettleDetector(Duration.ofSeconds(10), 1);
    d.offer(0, 100);
    d.offer(5_000, 120);

    assertThat(d.offer(14_999, 120)).isFalse();
    assertThat(d.offer(15_000, 120)).isTrue();
  }

  @Test
  void theReportEndsWithTheJsonTheIssueNames() throws Exception {
    ChangelogDiskBench.Spec spec =
        new ChangelogDiskBench.Spec(
            72, 24, 8000, 8000, 6, 500, 2, 1.0, 12, null, Duration.ofMinutes(10));
    ChangelogDiskBench.Result r =
        new ChangelogDiskBench.Result(
            spec,
            400_000_000,
            180_000_000,
            200_000_000,
            380_000_000,
            736_000,
            576_000,
            600_000_000,
            1_152_000,
            60,
            20,
            85);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ChangelogDiskBench.report(r).print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    JsonNode json = new ObjectMapper().readTree(lines.get(lines.size() - 1));

    assertThat(json.path("bench").asText()).isEqualTo("changelog-disk");
    assertThat(json.path("stock_bytes").asLong()).isEqualTo(400_000_000);
    assertThat(json.path("backbone_bytes").asLong()).isEqualTo(180_000_000);
    assertThat(json.path("window_bytes").asLong()).isEqualTo(200_000_000);
    assertThat(json.path("ratio_to_window").asDouble()).isEqualTo(0.9);
    assertThat(json.path("state_bytes").asLong()).isEqualTo(380_000_000);
    assertThat(json.path("written_bytes").asLong()).isEqualTo(600_000_000);
    assertThat(json.path("hours_simulated").asInt()).isEqualTo(72);
    assertThat(json.path("retention_hours").asInt()).isEqualTo(24);
    assertThat(json.path("goal_met").asBoolean()).isTrue();
    assertThat(json.path("baseline").asText()).contains("cleanup.policy=compact");
    assertThat(json.path("results")).hasSize(5);
    assertThat(lines).anyMatch(l -> l.startsWith("Backbone bounded, on broker"));
  }
}
