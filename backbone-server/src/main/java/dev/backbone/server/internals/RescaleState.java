package dev.backbone.server.internals;

import dev.backbone.rescale.RescalePlan;
import java.util.Optional;

/**
 * Where a keyed state stage's rescale stands, as a node knows it: read from the rescale log when
 * the node starts, then as the coordinator reports each step. {@code GET /v1/cluster} shows it.
 *
 * @param plan the latest plan, empty if the application was never rescaled
 * @param progress what the running step is doing (e.g. bytes copied), empty if nothing reported
 */
public record RescaleState(Optional<RescalePlan> plan, String progress) {
  /** Never rescaled. */
  public static final RescaleState NONE = new RescaleState(Optional.empty(), "");

  /** The state of a plan, without progress. */
  public static RescaleState of(RescalePlan plan) {
    return new RescaleState(Optional.of(plan), "");
  }

  /** The step the plan completed last, or "NONE". */
  public String step() {
    return plan.map(p -> p.step().name()).orElse("NONE");
  }

  /**
   * The generation a starting node serves: the new one once every node serves it ({@code SERVING}
   * and after), the old one before that and after an abort.
   */
  public int servingGeneration() {
    if (plan.isEmpty()) {
      return 0;
    }
    RescalePlan p = plan.get();
    return switch (p.step()) {
      case SERVING, RESUMED, CONFIRMED -> p.toGeneration();
      default -> p.fromGeneration();
    };
  }

  /**
   * Whether the feeder stage stays paused: from {@code INGEST_PAUSED} until every node serves the
   * next generation (from {@code SERVING} on, the feeder may already write to it elsewhere). Before
   * {@code INGEST_PAUSED} the feeder runs: the bulk of a rescale's work is done while it does. A
   * node that starts while the coordinator pauses the others, before the step is recorded, starts
   * its feeder and is paused by the coordinator, which asks every node again until the feeder's
   * group has no member.
   */
  public boolean feederPaused() {
    return plan.isPresent()
        && !plan.get().step().ended()
        && plan.get().step().ordinal() >= RescalePlan.Step.INGEST_PAUSED.ordinal()
        && plan.get().step().ordinal() < RescalePlan.Step.SERVING.ordinal();
  }
}
