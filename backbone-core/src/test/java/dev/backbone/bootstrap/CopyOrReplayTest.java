package dev.backbone.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CopyOrReplayTest {
  private final CopyOrReplay estimate = new CopyOrReplay(200_000, 100_000_000);

  @Test
  void aLongTailOfASmallStoreIsCopied() {
    // 10 M records to replay (~50 s) against 1 GB to copy (~10 s + 3 s).
    CopyOrReplay.Choice choice = estimate.choose(10_000_000, 1_000_000_000);
    assertThat(choice.copy()).isTrue();
    assertThat(choice.replaySeconds()).isEqualTo(50.0);
    assertThat(choice.copySeconds()).isEqualTo(13.0);
    assertThat(choice.describe(10_000_000, 1_000_000_000))
        .isEqualTo(
            "replaying its tail of 10,000,000 records takes ~50.0 s, copying ~1,000,000,000"
                + " bytes ~13.0 s");
  }

  @Test
  void aShortTailOfABigStoreIsReplayed() {
    // 1 M records (~5 s) against 10 GB (~103 s).
    assertThat(estimate.choose(1_000_000, 10_000_000_000L).copy()).isFalse();
  }

  @Test
  void theFixedCostOfACopyKeepsShortTailsReplayedEvenForTinyStores() {
    assertThat(estimate.choose(400_000, 0).copy()).as("2 s of replay against 3 s").isFalse();
    assertThat(estimate.choose(800_000, 0).copy()).as("4 s of replay against 3 s").isTrue();
  }

  @Test
  void aThrottleBelowTheEstimateSlowsTheCopy() {
    assertThat(estimate.throttled(0)).isSameAs(estimate);
    assertThat(estimate.throttled(500_000_000)).isSameAs(estimate);
    CopyOrReplay throttled = estimate.throttled(10_000_000);
    assertThat(throttled.copyBytesPerSecond()).isEqualTo(10_000_000);
    // 1 GB at 10 MB/s is 103 s: a 50 s tail is now replayed.
    assertThat(throttled.choose(10_000_000, 1_000_000_000).copy()).isFalse();
  }

  @Test
  void ratesMustBePositive() {
    assertThatThrownBy(() -> new CopyOrReplay(0, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rates must be positive");
  }
}
