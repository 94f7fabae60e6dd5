package dev.backbone.bench.changelog;

/**
 * Bytes written (key plus value; a tombstone counts its key), in total and per simulated minute of
 * record timestamps, so that the bytes of any trailing window can be read afterwards.
 */
final class WriteTally {
  private static final long MINUTE_MS = 60_000L;

  private final long startMs;
  private final long[] perMinute;
  private long bytes;
  private long records;

  /**
   * @param startMs the first timestamp that may be added
   * @param hours how many hours of timestamps follow it
   */
  WriteTally(long startMs, int hours) {
    this.startMs = startMs;
    this.perMinute = new long[Math.multiplyExact(hours, 60)];
  }

  void add(long timestampMs, long recordBytes) {
    long minute = Math.floorDiv(timestampMs - startMs, MINUTE_MS);
    if (minute < 0 || minute >= perMinute.length) {
      throw new IllegalArgumentException(
          "timestamp " + timestampMs + " is outside the tallied hours from " + startMs);
    }
    perMinute[(int) minute] += recordBytes;
    bytes += recordBytes;
    records++;
  }

  /** All bytes added. */
  long bytes() {
    return bytes;
  }

  /** All records added. */
  long records() {
    return records;
  }

  /**
   * Bytes of the records whose timestamps fall in the whole simulated minutes at or after {@code
   * cutoffMs}: the minute that holds the cutoff is left out, so this errs low by less than one
   * minute of writes.
   */
  long bytesSince(long cutoffMs) {
    long first = Math.max(0, Math.floorDiv(cutoffMs - startMs + MINUTE_MS - 1, MINUTE_MS));
    long sum = 0;
    for (long m = first; m < perMinute.length; m++) {
      sum += perMinute[(int) m];
    }
    return sum;
  }
}
