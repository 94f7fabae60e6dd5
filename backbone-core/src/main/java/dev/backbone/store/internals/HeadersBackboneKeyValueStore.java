package dev.backbone.store.internals;

import org.apache.kafka.streams.state.HeadersBytesStore;

/** A Backbone store whose values carry timestamp and headers, for DSL stores in HEADERS format. */
public final class HeadersBackboneKeyValueStore extends BackboneKeyValueStore
    implements HeadersBytesStore {
  /** A store named {@code name}. */
  public HeadersBackboneKeyValueStore(String name) {
    super(name);
  }
}
