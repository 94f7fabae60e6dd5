package dev.backbone.examples.load;

/** Told how a load run is going, from the run's own thread; must return quickly. */
@FunctionalInterface
public interface LoadProgressListener {

  /** A listener that ignores progress. */
  LoadProgressListener NONE = progress -> {};

  /** Called about once per progress interval with the counts so far. */
  void onProgress(LoadReport progress);
}
