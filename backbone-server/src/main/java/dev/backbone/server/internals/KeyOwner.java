package dev.backbone.server.internals;

import java.util.Objects;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Where the active replica of a key lives.
 *
 * @param endpoint HTTP endpoint of the node that hosts the active task
 * @param partition the store partition (= task partition) that holds the key
 */
record KeyOwner(HostInfo endpoint, int partition) {
  KeyOwner {
    Objects.requireNonNull(endpoint, "endpoint");
  }
}
