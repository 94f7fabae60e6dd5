package dev.backbone.server.internals;

import java.util.List;
import java.util.Optional;

/** A node for HTTP tests: a fixed id and stage names, no stage running, never ready. */
record FixedLocalNode(String nodeId, List<String> stageNames) implements LocalNode {
  @Override
  public Optional<RunningStage> stage(String name) {
    return Optional.empty();
  }

  @Override
  public boolean isReady() {
    return false;
  }
}
