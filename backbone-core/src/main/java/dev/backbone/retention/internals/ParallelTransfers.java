package dev.backbone.retention.internals;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The archive's transfer threads: one bounded pool per archive, so a node's uploads and downloads
 * together never move more than {@code parallelism} files at once.
 *
 * <p>A batch (the files of one upload or download) runs all or stops at the first failure: every
 * other transfer of the batch is aborted (its thread interrupted, its registered stream closed, as
 * Flink's {@code RocksDBStateDownloader} does) and {@link #runAll} returns only once none of them
 * runs any more, so the caller can delete a partial directory that nothing still writes into. The
 * first failure is thrown with the others suppressed.
 */
final class ParallelTransfers implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ParallelTransfers.class);

  /** How long an aborted batch may take to stop before {@link #runAll} gives up waiting. */
  static final Duration ABORT_WAIT = Duration.ofSeconds(30);

  private final ExecutorService pool;

  /** One transfer of a batch. */
  interface Transfer<T> {
    T run(Batch batch) throws Exception;
  }

  ParallelTransfers(int parallelism, String threadName) {
    AtomicInteger threads = new AtomicInteger();
    this.pool =
        Executors.newFixedThreadPool(
            parallelism,
            r -> {
              Thread t = new Thread(r, threadName + "-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Runs every transfer, at most {@code parallelism} at once over the whole archive.
   *
   * @return their results, in order
   * @throws Exception the first failure, the others suppressed; {@link InterruptedException} if the
   *     caller was interrupted (the batch is aborted then too)
   */
  <T> List<T> runAll(List<? extends Transfer<T>> transfers) throws Exception {
    Batch batch = new Batch(transfers.size());
    List<Future<T>> futures = new ArrayList<>();
    for (Transfer<T> transfer : transfers) {
      futures.add(pool.submit(() -> batch.run(transfer)));
    }
    List<T> results = new ArrayList<>();
    try {
      for (Future<T> future : futures) {
        results.add(future.get());
      }
      return results;
    } catch (ExecutionException e) {
      batch.abortAndAwait();
      Exception first = asException(e.getCause());
      for (Future<T> other : futures) {
        Throwable failure = failureOf(other);
        if (failure != null && failure != e.getCause() && !batch.causedByAbort(failure)) {
          first.addSuppressed(failure);
        }
      }
      throw first;
    } catch (InterruptedException e) {
      batch.abortAndAwait();
      throw e;
    }
  }

  private static Throwable failureOf(Future<?> future) {
    if (!future.isDone()) {
      return null;
    }
    try {
      future.get();
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException | CancellationException e) {
      return null;
    }
  }

  private static Exception asException(Throwable t) {
    if (t instanceof Exception e) {
      return e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }

  /** The transfers of one {@link #runAll}: how to abort them, and when they have all stopped. */
  static final class Batch {
    private final CountDownLatch stopped;
    private final Set<Thread> running = ConcurrentHashMap.newKeySet();
    private final Set<Closeable> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean aborted;

    private Batch(int size) {
      this.stopped = new CountDownLatch(size);
    }

    /**
     * Registers a stream to close if the batch is aborted (a blocking socket read ignores
     * interrupts); closes it at once if it already is.
     */
    void abortWith(Closeable stream) throws IOException {
      inFlight.add(stream);
      if (aborted) {
        stream.close();
      }
    }

    /** The stream's transfer is over. */
    void done(Closeable stream) {
      inFlight.remove(stream);
    }

    private <T> T run(Transfer<T> transfer) throws Exception {
      // Interrupts are delivered under this lock and cleared under it before the thread leaves the
      // batch, so an abort never reaches a transfer of another batch the thread runs next.
      synchronized (this) {
        running.add(Thread.currentThread());
      }
      try {
        if (aborted) {
          throw new CancellationException("the batch was aborted");
        }
        return transfer.run(this);
      } finally {
        synchronized (this) {
          running.remove(Thread.currentThread());
          Thread.interrupted();
        }
        stopped.countDown();
      }
    }

    private boolean causedByAbort(Throwable failure) {
      return aborted
          && (failure instanceof CancellationException
              || failure instanceof InterruptedException
              || failure instanceof InterruptedIOException
              || failure instanceof ClosedByInterruptException);
    }

    private void abortAndAwait() {
      synchronized (this) {
        aborted = true;
        running.forEach(Thread::interrupt);
      }
      for (Closeable stream : inFlight) {
        try {
          stream.close();
        } catch (IOException | RuntimeException e) {
          log.debug("closing an aborted transfer's stream failed: {}", e.toString());
        }
      }
      try {
        if (!stopped.await(ABORT_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
          log.warn(
              "{} aborted archive transfers still run after {}; going on without them",
              stopped.getCount(),
              ABORT_WAIT);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
