package dev.backbone.store.internals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;

/**
 * Which Backbone stores hold writes of the open exactly-once transaction of each stream thread, and
 * the place a {@link TransactionReportingProducer} reports that transaction's outcome to.
 *
 * <h2>Why a thread is the unit</h2>
 *
 * Under {@code exactly_once_v2} each StreamThread owns one transactional producer, and every store
 * write the thread makes (processing, punctuation, the cache flush in {@code prepareCommit}) before
 * it calls {@code commitTransaction()} belongs to that transaction; Kafka Streams calls {@code
 * commitTransaction()} on the same thread. So a store enlists under the thread that writes it, and
 * the producer reports "committed with these changelog end offsets" or "aborted" for the calling
 * thread, synchronously, before Kafka Streams goes on.
 *
 * <p>Writes of a thread that never reports (no reporting producer configured) just stay enlisted
 * until the store commits through {@code commit(Map)} or closes; nothing else depends on it.
 */
public final class StreamThreadTransactions {
  private static final ConcurrentMap<Thread, Set<Participant>> ENLISTED = new ConcurrentHashMap<>();
  private static final AtomicInteger REPORTING_PRODUCERS = new AtomicInteger();

  private StreamThreadTransactions() {}

  /** A store with writes in the open transaction of a thread. */
  interface Participant {
    /**
     * The transaction committed; {@code changelogEndOffsets} holds, per partition the transaction
     * wrote to, the offset of the last record it wrote (what Kafka Streams passes to {@code
     * commit(Map)}).
     */
    void transactionCommitted(Map<TopicPartition, Long> changelogEndOffsets);

    /** The transaction aborted or its commit failed: its writes must never be applied. */
    void transactionAborted();
  }

  /** Enlists {@code participant} in the open transaction of the calling thread. */
  static void enlist(Participant participant) {
    ENLISTED
        .computeIfAbsent(Thread.currentThread(), t -> ConcurrentHashMap.newKeySet())
        .add(participant);
  }

  /** Removes {@code participant} from every thread (it closed). */
  static void forget(Participant participant) {
    for (Thread thread : List.copyOf(ENLISTED.keySet())) {
      ENLISTED.computeIfPresent(
          thread,
          (t, set) -> {
            set.remove(participant);
            return set.isEmpty() ? null : set;
          });
    }
  }

  /**
   * The calling thread's transaction committed: every store it wrote applies its writes with its
   * changelog offset. Every store is tried; the first failure is rethrown with the others
   * suppressed.
   */
  static void committed(Map<TopicPartition, Long> changelogEndOffsets) {
    Map<TopicPartition, Long> offsets = Map.copyOf(changelogEndOffsets);
    complete(p -> p.transactionCommitted(offsets));
  }

  /** The calling thread's transaction aborted, or its commit failed. */
  static void aborted() {
    complete(Participant::transactionAborted);
  }

  /** The same as {@link #aborted()} for a thread that is not the caller (its producer closed). */
  static void aborted(Thread thread) {
    complete(thread, Participant::transactionAborted);
  }

  private static void complete(java.util.function.Consumer<Participant> outcome) {
    complete(Thread.currentThread(), outcome);
  }

  private static void complete(Thread thread, java.util.function.Consumer<Participant> outcome) {
    Set<Participant> participants = ENLISTED.remove(thread);
    if (participants == null) {
      return;
    }
    List<RuntimeException> failures = new ArrayList<>();
    for (Participant p : participants) {
      try {
        outcome.accept(p);
      } catch (RuntimeException e) {
        failures.add(e);
      }
    }
    if (!failures.isEmpty()) {
      RuntimeException first = failures.get(0);
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
      throw first;
    }
  }

  static void producerOpened() {
    REPORTING_PRODUCERS.incrementAndGet();
  }

  static void producerClosed() {
    REPORTING_PRODUCERS.decrementAndGet();
  }

  /** Whether a producer that reports transactions is open in this JVM. */
  static boolean reportingProducerOpen() {
    return REPORTING_PRODUCERS.get() > 0;
  }

  /** Stores enlisted under {@code thread}; for tests. */
  static int enlistedCount(Thread thread) {
    Set<Participant> set = ENLISTED.get(thread);
    return set == null ? 0 : set.size();
  }
}
