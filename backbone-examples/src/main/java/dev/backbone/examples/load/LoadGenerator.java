package dev.backbone.examples.load;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produces shop events for the customer-profile pipeline: the deterministic sequence of an {@link
 * EventStream}, paced to the spec's rate.
 *
 * <p>Pacing parks the thread until the next event's slot ({@link Pacer}), never spins. A run ends
 * after the spec's total, after its duration, or when {@link #stop()} is called from another
 * thread; then it flushes the producer and reports. The producer is the caller's: it is neither
 * configured nor closed here.
 */
public final class LoadGenerator {

  private static final Logger LOG = LoggerFactory.getLogger(LoadGenerator.class);

  /** How often a run reports progress by default. */
  public static final Duration DEFAULT_PROGRESS_INTERVAL = Duration.ofSeconds(1);

  private final long progressIntervalNanos;
  private volatile boolean stopped;
  private volatile Thread runner;
  // Written by the running thread only; volatile so status displays can read them live.
  private volatile long sentSoFar;
  private volatile long badSoFar;

  /** A generator reporting progress every {@link #DEFAULT_PROGRESS_INTERVAL}. */
  public LoadGenerator() {
    this(DEFAULT_PROGRESS_INTERVAL);
  }

  /** A generator reporting progress every {@code progressInterval}. */
  public LoadGenerator(Duration progressInterval) {
    if (progressInterval == null || progressInterval.isNegative() || progressInterval.isZero()) {
      throw new IllegalArgumentException(
          "progressInterval must be positive, got " + progressInterval);
    }
    this.progressIntervalNanos = progressInterval.toNanos();
  }

  /**
   * The events of {@code spec}, without sending anything: for tests and benchmarks.
   *
   * @throws dev.backbone.errors.FatalBackboneException if the spec is invalid
   */
  public EventStream events(LoadSpec spec) {
    return new EventStream(spec);
  }

  /**
   * Sends the events of {@code spec} through {@code producer}, paced, and waits until the producer
   * has flushed them.
   *
   * @param listener told the counts about once per progress interval; may be null
   * @return what was sent; {@code bad()} is the number of events the DLQ must receive
   * @throws dev.backbone.errors.FatalBackboneException if the spec is invalid
   */
  public LoadReport run(
      LoadSpec spec, Producer<String, String> producer, LoadProgressListener listener) {
    if (producer == null) {
      throw new IllegalArgumentException("a producer is required");
    }
    return run(
        spec,
        new RecordSink() {
          @Override
          public void send(ProducerRecord<String, String> record, Callback callback) {
            producer.send(record, callback);
          }

          @Override
          public void flush() {
            producer.flush();
          }
        },
        listener);
  }

  LoadReport run(LoadSpec spec, RecordSink sink, LoadProgressListener listener) {
    EventStream events = events(spec);
    LoadProgressListener progress = listener == null ? LoadProgressListener.NONE : listener;
    AtomicLong failed = new AtomicLong();
    Callback countFailures =
        (metadata, exception) -> {
          if (exception != null && failed.getAndIncrement() == 0) {
            LOG.warn(
                "A load event could not be sent (further failures are only counted)", exception);
          }
        };
    runner = Thread.currentThread();
    sentSoFar = 0;
    badSoFar = 0;
    long start = System.nanoTime();
    // Nano times are compared by difference only: System.nanoTime() may be negative or wrap.
    long runNanos = spec.duration() == null ? Long.MAX_VALUE : saturatedNanos(spec.duration());
    long nextProgress = start + progressIntervalNanos;
    Pacer pacer = new Pacer(spec.eventsPerSecond(), start);
    try {
      while (!stopped && events.hasNext()) {
        long now = System.nanoTime();
        long untilEnd = runNanos - (now - start);
        if (untilEnd <= 0) {
          break;
        }
        if (now - nextProgress >= 0) {
          progress.onProgress(
              LoadReport.of(events.emitted(), events.bad(), failed.get(), now - start));
          nextProgress = now + progressIntervalNanos;
        }
        long delay = pacer.delayNanos(now);
        if (delay > 0) {
          // Wakes early on stop() (unpark) or spuriously; the loop re-checks everything.
          LockSupport.parkNanos(this, Math.min(delay, Math.min(untilEnd, nextProgress - now)));
          continue;
        }
        sink.send(events.next(), countFailures);
        pacer.sent();
        sentSoFar = events.emitted();
        badSoFar = events.bad();
      }
      sink.flush();
    } finally {
      runner = null;
    }
    return LoadReport.of(events.emitted(), events.bad(), failed.get(), System.nanoTime() - start);
  }

  /**
   * Events handed to the producer by the current run (or the last one, once it ended). Safe to read
   * from any thread while a run is going, e.g. for a live rate display.
   */
  public long sentSoFar() {
    return sentSoFar;
  }

  /** Bad events among {@link #sentSoFar()}; as live and thread-safe. */
  public long badSoFar() {
    return badSoFar;
  }

  /**
   * Ends the current run soon (it still flushes and reports) and makes any later run of this
   * generator end at once. Safe to call from any thread, any number of times.
   */
  public void stop() {
    stopped = true;
    Thread thread = runner;
    if (thread != null) {
      LockSupport.unpark(thread);
    }
  }

  private static long saturatedNanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE; // centuries: effectively unbounded
    }
  }
}
