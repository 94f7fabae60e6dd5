package dev.backbone.examples.load;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The schedule on a synthetic clock: no sleeping, exact nanos. */
class PacerTest {

  private static final long START = -5_000_000_000L; // nanoTime may be negative

  @Test
  void spacesEventsEvenlyFromTheStart() {
    Pacer pacer = new Pacer(1000, START);

    assertThat(pacer.delayNanos(START)).isZero();
    pacer.sent();
    assertThat(pacer.delayNanos(START)).isEqualTo(1_000_000);
    assertThat(pacer.delayNanos(START + 400_000)).isEqualTo(600_000);
    pacer.sent();
    assertThat(pacer.delayNanos(START + 1_000_000)).isEqualTo(1_000_000);
  }

  @Test
  void doesNotDriftAtRatesThatAreNotWholeNanos() {
    Pacer pacer = new Pacer(3, START); // 333,333,333.33 ns apart
    for (int i = 0; i < 3000; i++) {
      pacer.sent();
    }

    assertThat(pacer.delayNanos(START)).isEqualTo(1_000_000_000_000L);
  }

  @Test
  void catchesUpInABurstOfAtMostAHundredMillisecondsOfEvents() {
    Pacer pacer = new Pacer(1000, START);
    long muchLater = START + 10_000_000_000L; // stalled for ten seconds
    int immediate = 0;
    while (pacer.delayNanos(muchLater) <= 0) {
      pacer.sent();
      immediate++;
    }

    assertThat(immediate).isEqualTo(101); // the slot that is due now and 100 ms of backlog
    assertThat(pacer.delayNanos(muchLater)).isEqualTo(1_000_000);
  }

  @Test
  void anUnpacedRunNeverWaits() {
    Pacer pacer = new Pacer(0, START);
    for (int i = 0; i < 1000; i++) {
      pacer.sent();
    }

    assertThat(pacer.delayNanos(START)).isZero();
  }
}
