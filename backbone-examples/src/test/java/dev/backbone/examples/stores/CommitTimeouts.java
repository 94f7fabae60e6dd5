package dev.backbone.examples.stores;

import java.util.concurrent.atomic.AtomicInteger;

/** Which commits of a {@link TimingOutProducer} time out, and how often they did. */
final class CommitTimeouts {
  /** Which commit times out. */
  enum Mode {
    NONE,
    /** The next commit, once. */
    NEXT,
    /**
     * Every commit Kafka Streams makes while it closes its tasks ({@code
     * TaskManager#tryCloseCleanActiveTasks}), and no other: a commit of the run loop that races
     * with {@code close()} must not time out instead.
     */
    AT_CLOSE
  }

  private volatile Mode mode = Mode.NONE;
  private final AtomicInteger injected = new AtomicInteger();
  private final AtomicInteger retries = new AtomicInteger();

  void arm(Mode mode) {
    this.mode = mode;
  }

  /** Whether the calling commit times out. */
  boolean takeTimeout() {
    switch (mode) {
      case NEXT -> mode = Mode.NONE;
      case AT_CLOSE -> {
        if (!calledWhileClosingTasks()) {
          return false;
        }
      }
      case NONE -> {
        return false;
      }
    }
    injected.incrementAndGet();
    return true;
  }

  private static boolean calledWhileClosingTasks() {
    return StackWalker.getInstance()
        .walk(
            frames ->
                frames.anyMatch(
                    f ->
                        f.getClassName().endsWith(".TaskManager")
                            && f.getMethodName().equals("tryCloseCleanActiveTasks")));
  }

  void retried() {
    retries.incrementAndGet();
  }

  int injected() {
    return injected.get();
  }

  int retries() {
    return retries.get();
  }
}
