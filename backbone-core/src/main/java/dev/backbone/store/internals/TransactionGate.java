package dev.backbone.store.internals;

import dev.backbone.store.internals.StreamThreadTransactions.Outcome;
import org.apache.kafka.streams.processor.TaskId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, when Kafka Streams commits an exactly-once store with writes in its buffer, what the
 * calling thread's last transaction allows (see the table in {@code docs/store.md}): apply the
 * writes only if they belong to exactly the transaction that just committed.
 */
final class TransactionGate {
  private static final Logger LOG = LoggerFactory.getLogger(TransactionGate.class);

  /** What to do with the buffer. */
  enum Verdict {
    /** Write it with the offsets. */
    APPLY,
    /** Keep it and write nothing: its transaction's outcome is not known yet. */
    KEEP,
    /** Drop it: its transaction aborted. */
    DROP,
    /** Drop it and mark the store dirty: its writes cannot be told apart. */
    CORRUPT
  }

  private final String store;
  private final TaskId task;
  private boolean warnedUnreported;

  TransactionGate(String store, TaskId task) {
    this.store = store;
    this.task = task;
  }

  /**
   * @param bufferBase transactions the writing thread had ended at the buffer's first write
   * @param entries the buffer's entries, for the log
   * @param alreadyKept whether the buffer was already kept once (logged then)
   */
  Verdict judge(long bufferBase, int entries, boolean alreadyKept) {
    Outcome outcome = StreamThreadTransactions.current();
    long spanned = StreamThreadTransactions.ended() - bufferBase;
    String thread = Thread.currentThread().getName();
    switch (outcome) {
      case COMMITTED -> {
        if (spanned == 1) {
          return Verdict.APPLY;
        }
        LOG.error(
            "store {} of task {}: its {} uncommitted writes span {} ended transactions of thread"
                + " {}, not the one just committed; they cannot be applied as one committed pair,"
                + " so the store drops them and is rebuilt from the changelog",
            store,
            task,
            entries,
            spanned,
            thread);
        return Verdict.CORRUPT;
      }
      case ABORTED -> {
        LOG.info(
            "store {} of task {}: the transaction of its {} uncommitted writes aborted; dropping"
                + " them",
            store,
            task,
            entries);
        return Verdict.DROP;
      }
      case OPEN, UNKNOWN -> {
        if (!alreadyKept) {
          LOG.warn(
              "store {} of task {}: Kafka Streams committed the store while the transaction of"
                  + " its {} uncommitted writes is {} (its commit did not return); keeping them"
                  + " until the outcome is known: a retried commit applies them, a close drops"
                  + " them",
              store,
              task,
              entries,
              outcome == Outcome.OPEN ? "still open" : "of unknown outcome");
        }
        return Verdict.KEEP;
      }
      case NONE -> {
        // Kafka Streams' threads run the configured supplier's producer, which reports; a thread
        // that never reported runs a producer Backbone does not see, as TopologyTestDriver's own
        // MockProducer. Kafka Streams' call is then all there is to go by.
        if (!warnedUnreported) {
          warnedUnreported = true;
          LOG.warn(
              "store {} of task {} is committed under exactly_once_v2 on thread {}, whose"
                  + " producer does not report its transactions (expected only under"
                  + " TopologyTestDriver); applying its writes on Kafka Streams' word",
              store,
              task,
              thread);
        }
        return Verdict.APPLY;
      }
    }
    throw new IllegalStateException("unknown outcome " + outcome);
  }
}
