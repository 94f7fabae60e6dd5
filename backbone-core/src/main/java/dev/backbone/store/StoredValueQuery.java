package dev.backbone.store;

import java.util.Objects;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.query.Query;

/**
 * An IQv2 query for the bytes a key's value was stored as by its value serde, without the store
 * format's framing (a timestamped store's 8-byte timestamp): what a read that serves values in
 * their serialized form needs, without deserializing them and encoding them again.
 *
 * <p>Kafka Streams' store layers (metered, caching, change-logging) pass a query type they do not
 * know to the store they wrap (4.4.0: {@code MeteredKeyValueStore#query}, {@code
 * CachingKeyValueStore#query} and {@code WrappedStateStore#query} call {@code wrapped().query} when
 * no handler is registered for it), so this query reaches the Backbone store under them, which
 * answers it from the same read as a {@code KeyQuery} with its position. Two consequences a caller
 * must mind: the key is the store's <em>serialized</em> key, serialized by the caller as the
 * store's key serde would; and the record cache is not consulted, as a {@code KeyQuery} with {@code
 * skipCache()}. A store in the HEADERS format, whose values carry headers, and any store that is
 * not a Backbone store, answer it as an unknown query type ({@code
 * FailureReason.UNKNOWN_QUERY_TYPE}), and the caller reads the typed way instead.
 *
 * @param key the serialized key
 */
public record StoredValueQuery(Bytes key) implements Query<byte[]> {
  /** Checks the key is present. */
  public StoredValueQuery {
    Objects.requireNonNull(key, "a stored value query needs a key");
  }
}
