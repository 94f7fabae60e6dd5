package dev.backbone.server.internals;

import dev.backbone.server.QueryableStore;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;

/** Key ownership from Kafka Streams' metadata ({@code KafkaStreams#queryMetadataForKey}). */
final class StreamsMetadataOwnerLookup implements KeyOwnerLookup {
  private final LocalNode node;

  StreamsMetadataOwnerLookup(LocalNode node) {
    this.node = node;
  }

  @Override
  public <K> KeyOwner ownerOf(QueryableStore<K, ?> store, K key) {
    KafkaStreams streams = KeyReadRouter.runningStreams(node, store);
    KeyQueryMetadata metadata;
    try {
      metadata = streams.queryMetadataForKey(store.storeName(), key, store.keySerializer());
    } catch (IllegalStateException | InvalidStateStoreException e) {
      throw KeyReadRouter.rebalancing(store, "its stage is " + streams.state());
    }
    if (metadata == null
        || metadata.activeHost() == null
        || HostInfo.unavailable().equals(metadata.activeHost())
        || metadata.partition() < 0) {
      throw KeyReadRouter.rebalancing(store, "no node is known to own the key right now");
    }
    return new KeyOwner(metadata.activeHost(), metadata.partition());
  }
}
