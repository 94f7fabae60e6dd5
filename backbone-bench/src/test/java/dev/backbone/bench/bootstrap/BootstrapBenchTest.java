package dev.backbone.bench.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class BootstrapBenchTest {

  @Property(tries = 200)
  void everyPassVisitsEveryKeyExactlyOnce(@ForAll @LongRange(min = 1, max = 20_000) long keys) {
    long step = LoadGenerator.coprimeStep(keys);
    for (int pass = 0; pass < 2; pass++) {
      long shift = (long) pass * 7919 % keys;
      BitSet seen = new BitSet((int) keys);
      for (long j = 0; j < keys; j++) {
        int i = (int) Math.floorMod(j * step + shift, keys);
        assertThat(seen.get(i)).as("key %d visited twice in pass %d", i, pass).isFalse();
        seen.set(i);
      }
      assertThat(seen.cardinality()).isEqualTo((int) keys);
    }
  }

  @Test
  void theDigestIgnoresOrderButSeesEveryEntry() {
    byte[] k1 = LoadGenerator.key(1);
    byte[] k2 = LoadGenerator.key(2);
    StateDigest d12 =
        StateDigest.EMPTY.plus(k1, LoadGenerator.value(1, 0)).plus(k2, LoadGenerator.value(2, 0));
    StateDigest d21 =
        StateDigest.EMPTY.plus(k2, LoadGenerator.value(2, 0)).plus(k1, LoadGenerator.value(1, 0));
    assertThat(d12).isEqualTo(d21);
    assertThat(StateDigest.EMPTY.plus(k1, LoadGenerator.value(1, 0))).isNotEqualTo(d12);
    StateDigest stale =
        StateDigest.EMPTY.plus(k1, LoadGenerator.value(1, 0)).plus(k2, LoadGenerator.value(2, 1));
    assertThat(stale).as("one key with an older value").isNotEqualTo(d12);
  }

  @Test
  void keysAndValuesHaveTheDocumentedSizes() {
    assertThat(LoadGenerator.key(123)).hasSize(BootstrapBench.KEY_BYTES);
    assertThat(LoadGenerator.value(123, 4)).hasSize(BootstrapBench.VALUE_BYTES);
    assertThat(LoadGenerator.value(123, 4)).isNotEqualTo(LoadGenerator.value(123, 5));
  }

  @Test
  void probesQueuedBeforeTheTaskRanDoNotCount() {
    ProbeRecorder probe = new ProbeRecorder();
    probe.record(1_000, 5_000); // the first processed: queued during a handover
    probe.record(1_010, 5_001); // also sent before the task ran here
    probe.record(5_010, 5_015);
    probe.record(5_020, 5_420); // a 400 ms stall while running
    ProbeRecorder.Stats stats = probe.stats();
    assertThat(stats.count()).isEqualTo(2);
    assertThat(stats.maxMillis()).isEqualTo(400);
    assertThat(probe.statsSince(4).count()).isZero();
  }

  @Test
  void theReportEndsWithTheJsonTheIssueNames() throws Exception {
    BootstrapBench.Result r =
        new BootstrapBench.Result(
            9_000_000,
            10,
            90_000_000,
            40_000_000,
            1_100_000_000,
            600,
            20,
            90,
            40_000_000,
            new ProbeRecorder.Stats(900, 40, 80),
            4.5,
            3.5,
            120,
            new ProbeRecorder.Stats(300, 12, 30),
            true,
            new ProbeRecorder.Stats(400, 30, 60),
            3.0);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BootstrapBench.report(r).print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    JsonNode json = new ObjectMapper().readTree(lines.get(lines.size() - 1));
    assertThat(json.path("bench").asText()).isEqualTo("bootstrap");
    assertThat(json.path("restore_seconds").asDouble()).isEqualTo(90.0);
    assertThat(json.path("bootstrap_seconds").asDouble()).isEqualTo(4.5);
    assertThat(json.path("copy_seconds").asDouble()).isEqualTo(3.0);
    assertThat(json.path("speedup").asDouble()).isEqualTo(20.0);
    assertThat(json.path("bootstrap_over_copy").asDouble()).isEqualTo(1.5);
    assertThat(json.path("results")).hasSize(4);
    assertThat(lines).anyMatch(l -> l.startsWith("backbone peer bootstrap"));
  }
}
