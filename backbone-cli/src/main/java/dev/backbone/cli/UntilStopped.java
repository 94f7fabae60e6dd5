package dev.backbone.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs a long-lived command until Ctrl-C / SIGTERM or a deadline, then lets the command close its
 * resources on its own thread while the JVM's shutdown waits (bounded) for that to finish — so a
 * signal always ends in a clean close, and a clean close never waits for a signal.
 */
final class UntilStopped implements AutoCloseable {
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(60);

  private final CountDownLatch stop = new CountDownLatch(1);
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Thread hook;

  UntilStopped(String name) {
    hook =
        new Thread(
            () -> {
              stop.countDown();
              try {
                closed.await(CLOSE_GRACE.toSeconds(), TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            name + "-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Waits up to {@code timeout} for a stop signal.
   *
   * @return true if a stop was signalled
   */
  boolean await(Duration timeout) throws InterruptedException {
    return stop.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Signals a stop from inside the command, as Ctrl-C would (e.g. a part of it failed). */
  void stop() {
    stop.countDown();
  }

  /** Waits for a stop signal, however long it takes. */
  void await() throws InterruptedException {
    stop.await();
  }

  /** Marks the command's resources closed: a pending shutdown may now finish. */
  @Override
  public void close() {
    closed.countDown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException alreadyShuttingDown) {
      // the JVM is exiting through the hook, which is waiting for the countDown above
    }
  }
}
