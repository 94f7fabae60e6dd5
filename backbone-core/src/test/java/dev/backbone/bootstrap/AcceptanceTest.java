package dev.backbone.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which lent manifests a fetch copies, judged before a byte of their files moves. */
class AcceptanceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
  private static final PeerSnapshotFetcher.Acceptance DAY_BOUND_A =
      new PeerSnapshotFetcher.Acceptance(Duration.ofDays(1), 1_000, Set.of("node-a"));

  private static JsonNode manifest(String dataAsOf, long offset) throws Exception {
    return JSON.readTree(
        "{\"changelogOffsets\":[{\"topic\":\"app-s-changelog\",\"partition\":1,\"offset\":"
            + offset
            + "}],\"dataAsOf\":"
            + (dataAsOf == null ? "null" : "\"" + dataAsOf + "\"")
            + "}");
  }

  @Test
  void aFreshSnapshotWithinTheBoundIsCopied() throws Exception {
    assertThat(DAY_BOUND_A.refuse(manifest("2026-12-02T11:00:00Z", 1_000), "node-a", NOW)).isNull();
  }

  @Test
  void aSnapshotThatCannotShowItsAgeIsPassedOver() throws Exception {
    assertThat(DAY_BOUND_A.refuse(manifest(null, 5_000), "node-b", NOW))
        .contains("does not say when its data was current");
    assertThat(DAY_BOUND_A.refuse(JSON.readTree("{\"changelogOffsets\":[]}"), "node-b", NOW))
        .contains("does not say when its data was current");
    assertThat(DAY_BOUND_A.refuse(manifest("yesterday", 5_000), "node-b", NOW))
        .contains("is not a time");
  }

  @Test
  void aSnapshotAsOldAsTheTombstoneRetentionIsPassedOver() throws Exception {
    assertThat(DAY_BOUND_A.refuse(manifest("2026-12-01T12:00:00Z", 5_000), "node-b", NOW))
        .contains("not younger than the changelog's delete.retention.ms");
    assertThat(DAY_BOUND_A.refuse(manifest("2026-12-01T12:00:01Z", 5_000), "node-b", NOW)).isNull();
  }

  @Test
  void theLagBoundHoldsOnlyForThePeersItNames() throws Exception {
    assertThat(DAY_BOUND_A.refuse(manifest("2026-12-02T11:00:00Z", 999), "node-a", NOW))
        .contains("at changelog offset 999, behind the 1000");
    assertThat(DAY_BOUND_A.refuse(manifest("2026-12-02T11:00:00Z", 999), "node-b", NOW))
        .as("the fresher replica asked after it is copied at any offset")
        .isNull();
  }

  @Test
  void anyAcceptsEverything() throws Exception {
    assertThat(PeerSnapshotFetcher.Acceptance.ANY.refuse(manifest(null, -1), "node-a", NOW))
        .isNull();
  }
}
