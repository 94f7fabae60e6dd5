package dev.backbone.rescale;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One rescale of an application, as its coordinator records it before every step (in {@link
 * RescaleLog}): what it changes and how far it came, so that a coordinator that crashed, or was
 * stopped, can be resumed or rolled back from exactly there.
 *
 * @param applicationId the application
 * @param fromGeneration the generation whose state is rescaled
 * @param fromPartitions its task count
 * @param toPartitions the task count of the next generation, {@code fromGeneration + 1}
 * @param step the last step completed
 * @param log one line per step completed, oldest first, each with its time
 * @param startedAtMillis when the rescale was planned, epoch milliseconds
 * @param baseOffsets from {@link Step#SPLIT} on, per old partition (index = partition), the
 *     changelog offset of the snapshot the new generation's first states were built from (-1 for a
 *     partition without records); the records after them are copied in {@link Step#CAUGHT_UP}.
 *     Empty before.
 */
public record RescalePlan(
    String applicationId,
    int fromGeneration,
    int fromPartitions,
    int toPartitions,
    Step step,
    List<String> log,
    long startedAtMillis,
    List<Long> baseOffsets) {

  /**
   * The steps of a rescale, in order (docs/rescale.md): the bulk of the work ({@link #SNAPSHOTTED}
   * to {@link #STARTED}) runs while ingest goes on; the pause runs from {@link #INGEST_PAUSED} to
   * {@link #RESUMED}; the last two end it.
   */
  public enum Step {
    /** Recorded, nothing moved yet. */
    PLANNED,
    /** Every task of the old generation snapshotted (ingest runs on). */
    SNAPSHOTTED,
    /**
     * The snapshots split into the new task count and the new generation's first states staged; the
     * offsets they were built at are recorded ({@link RescalePlan#baseOffsets}).
     */
    SPLIT,
    /** The next generation's topics created. */
    CREATED,
    /** The next generation runs on every node from its staged states, without input yet. */
    STARTED,
    /** The ingest stage stopped, its offsets committed: the pause begins. */
    INGEST_PAUSED,
    /** The old state stage processed every committed record of its input. */
    DRAINED,
    /**
     * The old changelogs' records after the base offsets copied to the new changelogs ({@link
     * ChangelogDelta}), and the next generation restarted and restored them.
     */
    CAUGHT_UP,
    /**
     * Every node serves queries from the next generation, which runs; the feeder may resume from
     * here on, so from here the rescale can only go forward.
     */
    SERVING,
    /** The next generation runs, ingest writes to it: the pause ends. */
    RESUMED,
    /** The next generation confirmed, the old one's topics deleted. */
    CONFIRMED,
    /** Rolled back before the next generation took over. */
    ABORTED;

    /** Whether the rescale has ended. */
    public boolean ended() {
      return this == CONFIRMED || this == ABORTED;
    }
  }

  /** Checks the fields. */
  public RescalePlan {
    Objects.requireNonNull(applicationId, "applicationId");
    Objects.requireNonNull(step, "step");
    log = List.copyOf(log);
    baseOffsets = baseOffsets == null ? List.of() : List.copyOf(baseOffsets);
    if (fromGeneration < 0) {
      throw new IllegalArgumentException("a generation is 0 or more, not " + fromGeneration);
    }
    if (fromPartitions < 1) {
      throw new IllegalArgumentException(
          "the application has at least 1 partition, not " + fromPartitions);
    }
    if (toPartitions < 1) {
      throw new IllegalArgumentException(
          "a rescale needs at least 1 target partition, not " + toPartitions);
    }
  }

  /**
   * A new rescale of {@code applicationId}'s generation {@code fromGeneration} from {@code
   * fromPartitions} to {@code toPartitions} tasks.
   *
   * @throws IllegalArgumentException if {@code toPartitions} is below 1 or equals {@code
   *     fromPartitions}
   */
  public static RescalePlan begin(
      String applicationId, int fromGeneration, int fromPartitions, int toPartitions, Instant now) {
    if (toPartitions == fromPartitions) {
      throw new IllegalArgumentException(
          "application "
              + applicationId
              + " has "
              + fromPartitions
              + " partitions already; nothing to rescale");
    }
    return new RescalePlan(
        applicationId,
        fromGeneration,
        fromPartitions,
        toPartitions,
        Step.PLANNED,
        List.of(now + " PLANNED " + fromPartitions + " -> " + toPartitions + " tasks"),
        now.toEpochMilli(),
        List.of());
  }

  /** The generation the rescale creates. */
  public int toGeneration() {
    return fromGeneration + 1;
  }

  /**
   * The same rescale, {@code next} completed.
   *
   * @param note what the step did, for the log
   * @throws IllegalStateException if the rescale has ended, or {@code next} does not come after the
   *     current step (an abort may follow any step before {@link Step#SERVING}: from there the
   *     feeder may write to the next generation, and going back would lose those writes)
   */
  public RescalePlan advance(Step next, String note, Instant now) {
    if (step.ended()) {
      throw new IllegalStateException(
          "the rescale of " + applicationId + " has ended (" + step + "); start a new one");
    }
    boolean forward = next.ordinal() == step.ordinal() + 1 && next != Step.ABORTED;
    boolean abort = next == Step.ABORTED && step.ordinal() < Step.SERVING.ordinal();
    if (!forward && !abort) {
      throw new IllegalStateException(
          "the rescale of "
              + applicationId
              + " is at "
              + step
              + "; "
              + next
              + " cannot follow it"
              + (next == Step.ABORTED
                  ? " (the next generation already runs: resume it to the end instead)"
                  : ""));
    }
    List<String> lines = new ArrayList<>(log);
    lines.add(now + " " + next + (note.isEmpty() ? "" : " " + note));
    return new RescalePlan(
        applicationId,
        fromGeneration,
        fromPartitions,
        toPartitions,
        next,
        lines,
        startedAtMillis,
        baseOffsets);
  }

  /**
   * The same plan with the offsets the new generation's first states were built at.
   *
   * @throws IllegalArgumentException unless there is one offset per old partition
   */
  public RescalePlan withBaseOffsets(List<Long> offsets) {
    if (offsets.size() != fromPartitions) {
      throw new IllegalArgumentException(
          "one base offset per old partition ("
              + fromPartitions
              + ") is needed, not "
              + offsets.size()
              + ": "
              + offsets);
    }
    return new RescalePlan(
        applicationId,
        fromGeneration,
        fromPartitions,
        toPartitions,
        step,
        log,
        startedAtMillis,
        offsets);
  }
}
