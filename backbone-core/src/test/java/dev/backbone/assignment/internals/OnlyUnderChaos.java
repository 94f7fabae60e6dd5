package dev.backbone.assignment.internals;

import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/**
 * Skips a jqwik property unless the build runs with {@code -Pchaos} (system property {@code
 * backbone.chaos=true}): long explorations with fresh random seeds, kept out of the default build
 * so that it stays deterministic and fast.
 */
public final class OnlyUnderChaos implements SkipExecutionHook {
  @Override
  public SkipResult shouldBeSkipped(LifecycleContext context) {
    return Boolean.getBoolean("backbone.chaos")
        ? SkipResult.doNotSkip()
        : SkipResult.skip("explores fresh seeds only under -Pchaos");
  }
}
