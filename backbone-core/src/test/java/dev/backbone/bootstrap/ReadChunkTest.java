package dev.backbone.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Under a throttle a copy reads small pieces, so the pace and the progress are smooth. */
class ReadChunkTest {
  @Test
  void unthrottledReadsFillTheWholeBuffer() {
    assertThat(PeerSnapshotFetcher.readChunk(0)).isEqualTo(256 * 1024);
  }

  @Test
  void throttledReadsTakeAbout50MillisecondsWorth() {
    assertThat(PeerSnapshotFetcher.readChunk(1_000_000)).isEqualTo(50_000);
    assertThat(PeerSnapshotFetcher.readChunk(40_000)).as("at least 4 KiB").isEqualTo(4096);
    assertThat(PeerSnapshotFetcher.readChunk(1_000_000_000))
        .as("at most the buffer")
        .isEqualTo(256 * 1024);
  }
}
