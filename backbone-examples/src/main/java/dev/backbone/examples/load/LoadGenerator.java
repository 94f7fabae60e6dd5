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
 * after the spec's total, after its duration, when {@link #stop()} is called from another thread,
 * or at the first send the producer reports as failed; then it flushes the producer and reports
 * what the brokers acknowledged, or throws {@link UndeliveredEventsException} naming how many
 * events were lost. The producer is the caller's: it is neither configured nor closed here, and the
 * caller makes sure the topic accepts writes before the run ({@link
 * dev.backbone.topics.WritableTopics}).
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
   * @return what was sent, all of it acknowledged; {@code bad()} is the number of events the DLQ
   *     must receive
   * @throws UndeliveredEventsException if the producer failed any send; the run stopped at the
   *     first
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
    Deliveries deliveries = new Deliveries();
    runner = Thread.currentThread();
    sentSoFar = 0;
    badSoFar = 0;
    long start = System.nanoTime();
    // Nano times are compared by difference only: System.nanoTime() may be negative or wrap.
    long runNanos = spec.duration() == null ? Long.MAX_VALUE : saturatedNanos(spec.duration());
    long nextProgress = start + progressIntervalNanos;
    Pacer pacer = new Pacer(spec.eventsPerSecond(), start);
    try {
      // A failed send is lost for good (the producer already retried it until its delivery
      // timeout), so the run stops at the first one instead of producing a total nobody can use.
      while (!stopped && deliveries.firstFailure() == null && events.hasNext()) {
        long now = System.nanoTime();
        long untilEnd = runNanos - (now - start);
        if (untilEnd <= 0) {
          break;
        }
        if (now - nextProgress >= 0) {
          progress.onProgress(deliveries.report(events, now - start));
          nextProgress = now + progressIntervalNanos;
        }
        long delay = pacer.delayNanos(now);
        if (delay > 0) {
          // Wakes early on stop() (unpark) or spuriously; the loop re-checks everything.
          LockSupport.parkNanos(this, Math.min(delay, Math.min(untilEnd, nextProgress - now)));
          continue;
        }
        GeneratedEvent event = events.nextEvent();
        sink.send(event.toRecord(spec.topic()), event.isBad() ? deliveries.bad : deliveries.valid);
        pacer.sent();
        sentSoFar = events.emitted();
        badSoFar = events.bad();
      }
      // Every callback has run once flush returns, so the counts below are final.
      sink.flush();
    } finally {
      runner = null;
    }
    LoadReport report = deliveries.report(events, System.nanoTime() - start);
    if (report.failed() > 0) {
      throw new UndeliveredEventsException(spec.topic(), report, deliveries.firstFailure());
    }
    return report;
  }

  /** Counts what the producer acknowledged and what it failed, from its callback threads. */
  private static final class Deliveries {
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong acknowledgedBad = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile Exception firstFailure;
    final Callback valid = (metadata, exception) -> completed(exception, false);
    final Callback bad = (metadata, exception) -> completed(exception, true);

    private void completed(Exception exception, boolean isBad) {
      if (exception == null) {
        acknowledged.incrementAndGet();
        if (isBad) {
          acknowledgedBad.incrementAndGet();
        }
      } else if (failed.getAndIncrement() == 0) {
        firstFailure = exception;
        LOG.warn("A load event could not be sent; the run stops (later failures are counted)");
      }
    }

    Exception firstFailure() {
      return firstFailure;
    }

    LoadReport report(EventStream events, long elapsedNanos) {
      return LoadReport.of(
          events.emitted(),
          events.bad(),
          acknowledged.get(),
          acknowledgedBad.get(),
          failed.get(),
          elapsedNanos);
    }
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
