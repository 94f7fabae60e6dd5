package dev.backbone.bootstrap.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The throttle holds a rate as a lower bound on time; only lower bounds are asserted. */
class ThrottleTest {
  @Test
  void holdsBytesToTheRateOnceTheFirstSecondsWorthIsSpent() throws InterruptedException {
    Throttle throttle = new Throttle(1_000_000);
    throttle.acquire(1_000_000);
    long start = System.nanoTime();
    for (int i = 0; i < 8; i++) {
      throttle.acquire(64 * 1024);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(seconds).as("512 KiB at 1 MB/s").isGreaterThanOrEqualTo(0.5);
  }

  @Test
  void zeroMeansNoLimit() throws InterruptedException {
    Throttle none = new Throttle(0);
    long start = System.nanoTime();
    for (int i = 0; i < 1_000; i++) {
      none.acquire(1 << 20);
    }
    assertThat(System.nanoTime() - start).isLessThan(1_000_000_000L);
  }

  @Test
  void rejectsANegativeRate() {
    assertThatThrownBy(() -> new Throttle(-1)).isInstanceOf(IllegalArgumentException.class);
  }
}
