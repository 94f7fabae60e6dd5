package dev.backbone.server.internals;

import dev.backbone.bootstrap.ColdBootstrap;
import java.util.List;
import java.util.Optional;

/**
 * A node for HTTP tests: a fixed id, stage names and bootstraps in progress, no stage running,
 * never ready.
 */
record FixedLocalNode(String nodeId, List<String> stageNames, List<ColdBootstrap.Status> bootstraps)
    implements LocalNode {
  FixedLocalNode(String nodeId, List<String> stageNames) {
    this(nodeId, stageNames, List.of());
  }

  @Override
  public Optional<RunningStage> stage(String name) {
    return Optional.empty();
  }

  @Override
  public boolean isReady() {
    return false;
  }
}
