package dev.backbone.bench.bootstrap;

import java.util.Arrays;

/**
 * The probe records one instance processed: when each was sent and when processed. Thread-safe.
 *
 * <p>Only probes sent after the instance processed its first one count: those before queued while
 * the probe task moved to the instance (a handover, which stock Kafka Streams has too), not while
 * the instance was busy with a rebuild.
 */
final class ProbeRecorder {
  private long[] sent = new long[1024];
  private long[] processed = new long[1024];
  private int count;

  synchronized void record(long sentMillis, long processedMillis) {
    if (count == sent.length) {
      sent = Arrays.copyOf(sent, count * 2);
      processed = Arrays.copyOf(processed, count * 2);
    }
    sent[count] = sentMillis;
    processed[count++] = processedMillis;
  }

  synchronized int count() {
    return count;
  }

  synchronized Stats stats() {
    return statsSince(0);
  }

  /** The stats of the records after the first {@code skip} (of an earlier phase). */
  synchronized Stats statsSince(int skip) {
    if (skip >= count) {
      return new Stats(0, 0, 0);
    }
    long running = processed[skip];
    long[] latencies = new long[count - skip];
    int n = 0;
    for (int i = skip; i < count; i++) {
      if (sent[i] >= running) {
        latencies[n++] = Math.max(0, processed[i] - sent[i]);
      }
    }
    long[] sorted = Arrays.copyOf(latencies, n);
    Arrays.sort(sorted);
    if (n == 0) {
      return new Stats(0, 0, 0);
    }
    int p99 = (int) Math.max(0, Math.ceil(n * 0.99) - 1);
    return new Stats(n, sorted[p99], sorted[n - 1]);
  }

  /** Probe records counted, and their 99th percentile and highest latency. */
  record Stats(int count, long p99Millis, long maxMillis) {}
}
