package dev.backbone.store.internals;

import org.apache.kafka.streams.state.TimestampedBytesStore;

/** A Backbone store whose values carry their timestamp, as the DSL's timestamped stores. */
public final class TimestampedBackboneKeyValueStore extends BackboneKeyValueStore
    implements TimestampedBytesStore {
  /** A store named {@code name}. */
  public TimestampedBackboneKeyValueStore(String name) {
    super(name);
  }
}
