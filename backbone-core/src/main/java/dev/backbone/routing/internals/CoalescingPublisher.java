package dev.backbone.routing.internals;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Carries values from threads that must never wait to one background thread that delivers them,
 * newest only. Built for the routing table: the group leader hands a table over from inside a
 * rebalance, and the delivery (a produce to the routing topic) may wait for the brokers for as long
 * as they are away.
 *
 * <p>What must hold:
 *
 * <ol>
 *   <li><b>{@link #offer} never waits for a delivery.</b> It takes a monitor that the delivering
 *       thread holds only to move a reference or to wait on it (which releases it), never while it
 *       delivers, backs off, or calls the listener. So an offer costs a few field writes, whatever
 *       the brokers do.
 *   <li><b>Latest wins.</b> A value offered while an older one still waits replaces it: only the
 *       newest value is worth delivering. A value already being delivered is not recalled (a send
 *       cannot be taken back), and it is never delivered again once a newer one was offered.
 *   <li><b>Order.</b> One thread delivers one value at a time and waits until a delivery has
 *       finished or failed before starting the next, so what was offered later lands later.
 *   <li><b>Nothing newest is given up.</b> A failed delivery is retried, the backoff doubling from
 *       {@code minBackoff} to {@code maxBackoff}, until it succeeds, a newer value replaces it, the
 *       {@code superseded} test says a newer one arrived by another way (another leader published),
 *       or the publisher closes. A backoff is cut short only by {@link #close}, so a burst of
 *       offers while the brokers are away does not turn into a burst of attempts.
 *   <li><b>Close is bounded.</b> It drops what waits, interrupts a delivery in progress and waits
 *       for the thread at most the given time.
 * </ol>
 *
 * @param <T> the values delivered
 */
public final class CoalescingPublisher<T> implements AutoCloseable {
  /** Delivers one value: returns once it is delivered, throws when it is not. */
  @FunctionalInterface
  public interface Delivery<T> {
    /**
     * Delivers a value; called on the publisher's thread only, one value at a time.
     *
     * @throws Exception when the value was not delivered; it is retried unless a newer one waits
     */
    void deliver(T value) throws Exception;
  }

  /** What happened to the values, for logs; called on the publisher's thread, never throws. */
  public interface Listener<T> {
    /** {@code value} was delivered after {@code failedAttempts} failed attempts of its streak. */
    default void delivered(T value, long failedAttempts) {}

    /** Attempt {@code attempt} of a streak failed; the newest value is tried again after a wait. */
    default void failed(T value, Exception failure, long attempt, Duration retryIn) {}

    /** {@code value} was dropped undelivered: the superseded test said a newer one exists. */
    default void superseded(T value) {}
  }

  private final Delivery<T> delivery;
  private final Predicate<? super T> superseded;
  private final Listener<? super T> listener;
  private final Duration minBackoff;
  private final Duration maxBackoff;
  private final Thread thread;

  private final Object lock = new Object();
  // Guarded by lock.
  private T pending;
  private T inFlight;
  private boolean closed;

  private volatile T lastDelivered;
  private final AtomicLong failedAttempts = new AtomicLong();
  private final AtomicLong coalesced = new AtomicLong();
  private final AtomicLong supersededCount = new AtomicLong();

  /**
   * Starts the publisher's thread (a daemon).
   *
   * @param threadName the name of the delivering thread
   * @param delivery delivers one value
   * @param superseded whether a value is no longer worth delivering, asked just before each attempt
   * @param listener told what happened, for logs
   * @param minBackoff the wait after the first failure of a streak
   * @param maxBackoff the longest wait between attempts
   */
  public CoalescingPublisher(
      String threadName,
      Delivery<T> delivery,
      Predicate<? super T> superseded,
      Listener<? super T> listener,
      Duration minBackoff,
      Duration maxBackoff) {
    this.delivery = Objects.requireNonNull(delivery, "delivery");
    this.superseded = Objects.requireNonNull(superseded, "superseded");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.minBackoff = Objects.requireNonNull(minBackoff, "minBackoff");
    this.maxBackoff = Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (minBackoff.isNegative() || minBackoff.isZero() || maxBackoff.compareTo(minBackoff) < 0) {
      throw new IllegalArgumentException(
          "backoff must be positive and at most its maximum: " + minBackoff + ", " + maxBackoff);
    }
    this.thread = new Thread(this::run, Objects.requireNonNull(threadName, "threadName"));
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Hands a value over for delivery and returns at once; it replaces any value still waiting.
   *
   * @return false, and nothing is delivered, once the publisher is closed
   */
  public boolean offer(T value) {
    Objects.requireNonNull(value, "value");
    synchronized (lock) {
      if (closed) {
        return false;
      }
      if (pending != null) {
        coalesced.incrementAndGet();
      }
      pending = value;
      lock.notifyAll();
      return true;
    }
  }

  /** The last value delivered, if any. */
  public Optional<T> lastDelivered() {
    return Optional.ofNullable(lastDelivered);
  }

  /** Whether a value waits or is being delivered. */
  public boolean waiting() {
    synchronized (lock) {
      return pending != null || inFlight != null;
    }
  }

  /** Failed delivery attempts so far. */
  public long failedAttempts() {
    return failedAttempts.get();
  }

  /** Values replaced by a newer one before they were delivered. */
  public long coalesced() {
    return coalesced.get();
  }

  /** Values dropped because the superseded test said a newer one exists. */
  public long superseded() {
    return supersededCount.get();
  }

  private void run() {
    try {
      deliverUntilClosed();
    } finally {
      synchronized (lock) {
        inFlight = null;
      }
    }
  }

  private void deliverUntilClosed() {
    long streak = 0;
    while (true) {
      T value;
      synchronized (lock) {
        while (pending == null && !closed) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            // Only close interrupts this thread; the loop condition sees it.
          }
        }
        if (closed) {
          return;
        }
        value = pending;
        pending = null;
        inFlight = value;
      }
      try {
        if (superseded.test(value)) {
          supersededCount.incrementAndGet();
          listener.superseded(value);
        } else {
          delivery.deliver(value);
          lastDelivered = value;
          listener.delivered(value, streak);
        }
        streak = 0;
        synchronized (lock) {
          inFlight = null;
        }
      } catch (Exception e) {
        if (isClosed()) {
          return;
        }
        streak++;
        failedAttempts.incrementAndGet();
        Duration wait = backoff(streak);
        listener.failed(value, e, streak, wait);
        if (!retryAfter(value, wait)) {
          return;
        }
      }
    }
  }

  /** Puts the failed value back unless a newer one waits; waits; false once closed. */
  private boolean retryAfter(T failed, Duration wait) {
    synchronized (lock) {
      inFlight = null;
      if (pending == null) {
        pending = failed;
      } else {
        coalesced.incrementAndGet();
      }
      long deadline = System.nanoTime() + wait.toNanos();
      for (long left = wait.toNanos(); !closed && left > 0; left = deadline - System.nanoTime()) {
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          // Only close interrupts this thread; the loop condition sees it.
        }
      }
      return !closed;
    }
  }

  private Duration backoff(long streak) {
    Duration wait = minBackoff;
    for (long i = 1; i < streak && wait.compareTo(maxBackoff) < 0; i++) {
      wait = wait.multipliedBy(2);
    }
    return wait.compareTo(maxBackoff) > 0 ? maxBackoff : wait;
  }

  private boolean isClosed() {
    synchronized (lock) {
      return closed;
    }
  }

  /**
   * Stops the thread: what waits is dropped, a delivery in progress is interrupted.
   *
   * @param timeout how long to wait for the thread to end
   * @return whether it ended in time
   */
  public boolean close(Duration timeout) {
    synchronized (lock) {
      closed = true;
      pending = null;
      lock.notifyAll();
    }
    thread.interrupt();
    try {
      thread.join(Math.max(1, timeout.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return !thread.isAlive();
  }

  /** {@link #close(Duration)} with five seconds. */
  @Override
  public void close() {
    close(Duration.ofSeconds(5));
  }
}
