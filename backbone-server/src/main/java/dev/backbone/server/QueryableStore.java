package dev.backbone.server;

import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A state store the HTTP API serves: {@code GET /v1/stores/{storeName}/keys/{key}} on any node
 * reads the key from whichever node holds the active replica of its partition.
 *
 * @param storeName name of the store in the stage's topology
 * @param stageName name of the {@link StreamsStage} whose topology holds the store
 * @param keyParser turns the (percent-decoded) key of the URL into the store's key type; throws
 *     {@link IllegalArgumentException} for a key that is not valid, which the API answers with 400
 *     {@code BAD_KEY} and the exception's message
 * @param keySerializer the serializer of the store's keys, used to find the partition of a key
 *     exactly as the producer did
 * @param toJson turns a stored value into something Jackson can write (a record, a map, a {@code
 *     JsonNode}, a string); it is called on the HTTP thread
 * @param keyFormatter turns a stored key back into its text, the inverse of {@code keyParser}:
 *     scans and batch reads name each key by it
 * @param writes how the HTTP API writes the store, if it is fed by a topic ({@link #withWrites})
 * @param toBytes the bytes a read with {@code Accept: application/octet-stream} answers with, if
 *     the store offers them ({@link #withBinaryValues}); such a read is refused with 406 otherwise
 * @param storedJson whether the store's values are stored as the JSON a read serves, so that a key
 *     read can answer with the stored bytes as they are ({@link #withStoredJsonValues})
 * @param <K> key type of the store
 * @param <V> value type of the store
 */
public record QueryableStore<K, V>(
    String storeName,
    String stageName,
    Function<String, K> keyParser,
    Serializer<K> keySerializer,
    Function<V, ?> toJson,
    Function<K, String> keyFormatter,
    Optional<TopicWrites<V>> writes,
    Optional<Function<V, byte[]>> toBytes,
    boolean storedJson) {

  /** Checks that every component is present. */
  public QueryableStore {
    Objects.requireNonNull(storeName, "a queryable store needs a store name");
    Objects.requireNonNull(stageName, () -> "store '" + storeName + "' needs a stage name");
    Objects.requireNonNull(keyParser, () -> "store '" + storeName + "' needs a key parser");
    Objects.requireNonNull(keySerializer, () -> "store '" + storeName + "' needs a key serializer");
    Objects.requireNonNull(toJson, () -> "store '" + storeName + "' needs a toJson function");
    Objects.requireNonNull(keyFormatter, () -> "store '" + storeName + "' needs a key formatter");
    Objects.requireNonNull(writes, () -> "store '" + storeName + "': writes, or Optional.empty()");
    Objects.requireNonNull(
        toBytes, () -> "store '" + storeName + "': toBytes, or Optional.empty()");
  }

  /**
   * A store whose keys read back as text with {@link String#valueOf(Object)}.
   *
   * @param storeName name of the store in the stage's topology
   * @param stageName name of the stage whose topology holds the store
   * @param keyParser turns the key of the URL into the store's key type
   * @param keySerializer the serializer of the store's keys
   * @param toJson turns a stored value into something Jackson can write
   */
  public QueryableStore(
      String storeName,
      String stageName,
      Function<String, K> keyParser,
      Serializer<K> keySerializer,
      Function<V, ?> toJson) {
    this(
        storeName,
        stageName,
        keyParser,
        keySerializer,
        toJson,
        String::valueOf,
        Optional.empty(),
        Optional.empty(),
        false);
  }

  /** The same store, written through the HTTP API by producing to a topic its table reads. */
  public QueryableStore<K, V> withWrites(TopicWrites<V> topicWrites) {
    return with(
        Optional.of(Objects.requireNonNull(topicWrites, "topicWrites")), toBytes, storedJson);
  }

  /**
   * The same store, whose values can also be read as bytes: {@code GET .../keys/{key}} with {@code
   * Accept: application/octet-stream} answers with {@code toBytes} of the value (typically the
   * store's value serializer), the read's metadata in {@code X-Backbone-*} headers.
   */
  public QueryableStore<K, V> withBinaryValues(Function<V, byte[]> valueBytes) {
    return with(writes, Optional.of(Objects.requireNonNull(valueBytes, "valueBytes")), storedJson);
  }

  /**
   * The same store, declared to store each value as the JSON a read of it serves: its value serde
   * writes UTF-8 JSON, and {@code toJson} of a value read back is that same JSON. A key read then
   * answers with the stored bytes as they are, without deserializing the value and encoding it
   * again (on a node under a GET load that pair cost about a sixth of each read's CPU,
   * docs/benchmarks.md); everything else about the read, its consistency checks, position and
   * answer shape, stays as it was.
   *
   * <p>What the declaration promises, beyond the value format: {@link #keySerializer()} writes a
   * key exactly as the store's key serde does (which routing already relies on, to find a key's
   * partition). A key read that finds no value by the stored-bytes way is read again the typed way
   * before it answers "not found", so a key serializer that disagreed with the store's could not
   * make a present key read as missing. Stores in the HEADERS format, and stores that are not
   * Backbone stores, are read the typed way whatever this says.
   */
  public QueryableStore<K, V> withStoredJsonValues() {
    return with(writes, toBytes, true);
  }

  private QueryableStore<K, V> with(
      Optional<TopicWrites<V>> newWrites,
      Optional<Function<V, byte[]>> newToBytes,
      boolean newStoredJson) {
    return new QueryableStore<>(
        storeName,
        stageName,
        keyParser,
        keySerializer,
        toJson,
        keyFormatter,
        newWrites,
        newToBytes,
        newStoredJson);
  }

  /**
   * A store with {@code String} keys serialized as UTF-8 (Kafka's {@link StringSerializer}), the
   * common case: the key of the URL is the key of the store.
   */
  public static <V> QueryableStore<String, V> withStringKeys(
      String storeName, String stageName, Function<V, ?> toJson) {
    return new QueryableStore<>(
        storeName,
        stageName,
        Function.identity(),
        new StringSerializer(),
        toJson,
        Function.identity(),
        Optional.empty(),
        Optional.empty(),
        false);
  }
}
