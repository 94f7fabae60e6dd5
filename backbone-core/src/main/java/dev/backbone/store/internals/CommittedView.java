package dev.backbone.store.internals;

import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * A store's committed data only, without its write buffer: what a crash would keep. Kafka Streams
 * 4.4 hands it out for {@code READ_COMMITTED} reads ({@code KeyValueStore#readOnly}, through {@code
 * StoreQueryUtils} and the caching and metering layers).
 */
final class CommittedView implements ReadOnlyKeyValueStore<Bytes, byte[]> {
  private final BackboneKeyValueStore store;

  CommittedView(BackboneKeyValueStore store) {
    this.store = store;
  }

  @Override
  public byte[] get(Bytes key) {
    return store.read(key, IsolationLevel.READ_COMMITTED).value();
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
    return store.scan(KeyRange.requested(from, to), true, true).iterator();
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
    return store.scan(KeyRange.requested(from, to), false, true).iterator();
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> all() {
    return store.scan(KeyRange.ALL, true, true).iterator();
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> reverseAll() {
    return store.scan(KeyRange.ALL, false, true).iterator();
  }

  @Override
  public <PS extends Serializer<P>, P> KeyValueIterator<Bytes, byte[]> prefixScan(
      P prefix, PS prefixKeySerializer) {
    return store.scan(KeyRange.prefix(prefix, prefixKeySerializer), true, true).iterator();
  }

  @Override
  public long approximateNumEntries() {
    return store.approximateNumEntries();
  }

  @Override
  public ReadOnlyKeyValueStore<Bytes, byte[]> readOnly(IsolationLevel isolationLevel) {
    return isolationLevel == IsolationLevel.READ_COMMITTED ? this : store;
  }
}
