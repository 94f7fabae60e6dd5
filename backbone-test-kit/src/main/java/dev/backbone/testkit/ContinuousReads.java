package dev.backbone.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Clients that read keys one after another, without pause, until closed, and record every answer in
 * a {@link ReadChecker}: the reads a test keeps going while it injects faults.
 *
 * <pre>{@code
 * try (ContinuousReads reads = ContinuousReads.start(checker, 4, keys, (client, key) -> ...)) {
 *   // kill a node, wipe a store, move tasks ...
 * }
 * checker.assertNoViolations();
 * }</pre>
 */
public final class ContinuousReads implements AutoCloseable {
  private static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /**
   * One read of one key by one client.
   *
   * @param <V> the type of a served value
   */
  @FunctionalInterface
  public interface KeyRead<V> {
    /**
     * Reads {@code key} as client number {@code client} and returns the answer; an exception means
     * there was no answer at all (e.g. a refused connection) and is recorded as a retry.
     */
    ReadChecker.Answer<V> read(int client, String key) throws Exception;
  }

  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong completed = new AtomicLong();
  private final List<Thread> threads = new ArrayList<>();

  private ContinuousReads() {}

  /**
   * Starts {@code clients} threads; client {@code i} is named {@code "reader-i"} in the checker and
   * reads the keys in a random order, each read recorded from its start to its answer.
   */
  public static <V> ContinuousReads start(
      ReadChecker<V> checker, int clients, List<String> keys, KeyRead<V> read) {
    Objects.requireNonNull(checker, "checker");
    Objects.requireNonNull(read, "read");
    if (clients < 1 || keys.isEmpty()) {
      throw new IllegalArgumentException("need at least one client and one key");
    }
    List<String> copy = List.copyOf(keys);
    ContinuousReads reads = new ContinuousReads();
    for (int i = 0; i < clients; i++) {
      int client = i;
      String name = "reader-" + i;
      Thread thread =
          new Thread(
              () -> {
                while (reads.running.get()) {
                  String key = copy.get(ThreadLocalRandom.current().nextInt(copy.size()));
                  ReadChecker<V>.Read started = checker.begin(name, key);
                  try {
                    started.end(read.read(client, key));
                  } catch (Exception e) {
                    checker.recordNoAnswer(name, key, e);
                  }
                  reads.completed.incrementAndGet();
                  LockSupport.parkNanos(PAUSE_NANOS);
                }
              },
              name);
      thread.setDaemon(true);
      reads.threads.add(thread);
      thread.start();
    }
    return reads;
  }

  /**
   * Reads completed so far, answered or not: a test shows with it that reads overlapped a fault.
   */
  public long completed() {
    return completed.get();
  }

  /** Stops every client and waits for its read in flight. */
  @Override
  public void close() {
    running.set(false);
    try {
      for (Thread thread : threads) {
        thread.join(TimeUnit.SECONDS.toMillis(60));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
