package dev.backbone.store.internals;

/**
 * How the exactly-once transaction of the calling stream thread last ended, as its {@link
 * TransactionReportingProducer} saw it.
 *
 * <h2>Why the store needs to know</h2>
 *
 * With {@code enable.transactional.statestores=true} (KIP-892, Kafka Streams 4.4) Kafka Streams
 * calls {@code commit(Map)} on an exactly-once task's stores after every transaction commit ({@code
 * StreamTask#postCommit}). But it also calls it on paths where the transaction did <em>not</em>
 * commit: {@code TaskManager#tryCloseCleanActiveTasks} post-commits every task it closes even when
 * {@code commitOffsetsOrTransaction} threw, and {@code TaskManager#handleRevocation} post-commits
 * revoked tasks that had no offsets to commit after a failed commit. There the tasks are closed
 * dirty without a wipe (transactional stores are not wiped), so a store that applied its writes
 * would keep, for good, data of a transaction that may have aborted, with an offset that claims its
 * records. The call itself cannot tell the paths apart; the producer can.
 *
 * <h2>Why a thread is the unit</h2>
 *
 * Under {@code exactly_once_v2} each StreamThread owns one transactional producer, calls {@code
 * beginTransaction}/{@code commitTransaction}/{@code abortTransaction} on it itself, and calls
 * {@code commit(Map)} on its active tasks' stores on the same thread, right after the transaction
 * call it belongs to (no record is processed in between). So the state lives with the thread, in a
 * {@link ThreadLocal}: it is the thread's own, and a thread belongs to exactly one node.
 */
public final class StreamThreadTransactions {
  /** How the calling thread's last transaction ended. */
  public enum Outcome {
    /** No reporting producer ran a transaction on this thread. */
    NONE,
    /** A transaction is open. */
    OPEN,
    /** The last {@code commitTransaction()} returned normally: the transaction is durable. */
    COMMITTED,
    /**
     * The last {@code commitTransaction()} threw: the transaction may or may not commit (a timeout
     * leaves it to a retry of the same call, or to the broker's transaction timeout).
     */
    UNKNOWN,
    /** The last transaction was aborted, or its producer closed while it was open. */
    ABORTED
  }

  private static final ThreadLocal<State> STATE = ThreadLocal.withInitial(State::new);

  private StreamThreadTransactions() {}

  /** The outcome of the calling thread's last transaction. */
  public static Outcome current() {
    return STATE.get().outcome;
  }

  /**
   * How many transactions of the calling thread have ended, committed or aborted (a commit of
   * unknown outcome has not ended). A store notes it at its first write after a commit: if more
   * than one transaction ended by its next commit, its writes span a transaction it was not
   * committed with.
   */
  public static long ended() {
    return STATE.get().ended;
  }

  static void set(Outcome outcome) {
    State state = STATE.get();
    state.outcome = outcome;
    if (outcome == Outcome.COMMITTED || outcome == Outcome.ABORTED) {
      state.ended++;
    }
  }

  /** One thread's view; only that thread reads or writes it. */
  private static final class State {
    Outcome outcome = Outcome.NONE;
    long ended;
  }
}
