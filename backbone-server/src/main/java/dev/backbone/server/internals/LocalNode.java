package dev.backbone.server.internals;

import dev.backbone.bootstrap.ColdBootstrap;
import dev.backbone.routing.RoutingCache;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the HTTP layer needs to know about the node it runs in. */
public interface LocalNode {
  /** This node's id, named in every answer. */
  String nodeId();

  /** The stage names, in start order. */
  List<String> stageNames();

  /** A stage once the node created it; empty before the node started it. */
  Optional<RunningStage> stage(String name);

  /**
   * The routing view of a stage that holds a queryable store, once the node started it; empty for
   * other stages.
   */
  default Optional<RoutingCache> routing(String stageName) {
    return Optional.empty();
  }

  /** This node's cold bootstraps not yet installed or given up; empty without bootstrap. */
  default List<ColdBootstrap.Status> bootstraps() {
    return List.of();
  }

  /** Where a rescale of this node's keyed state stands, as this node knows it. */
  default RescaleState rescaleState() {
    return RescaleState.NONE;
  }

  /**
   * The generations of a keyed state stage running on this node, the serving one first, with their
   * Kafka Streams states; empty for another stage.
   */
  default Map<Integer, String> generations(String stageName) {
    return Map.of();
  }

  /**
   * What every answer of this node carries in {@code X-Backbone-State-Generation}: each keyed state
   * stage's serving generation ({@code state=1}), and while a rescale of it has not ended, its step
   * ({@code state=1; rescale=SNAPSHOTTED}): an answer given during a rescale's pause says it comes
   * from the old generation. Empty for a node without keyed state.
   */
  default Optional<String> generationHeader() {
    return Optional.empty();
  }

  /** Whether every stage is RUNNING. */
  boolean isReady();

  /**
   * The state of a stage as shown by the API: the Kafka Streams state, or {@code NOT_STARTED}
   * before the node created its instance.
   */
  default String stageState(String name) {
    return stage(name).map(s -> s.streams().state().name()).orElse("NOT_STARTED");
  }
}
