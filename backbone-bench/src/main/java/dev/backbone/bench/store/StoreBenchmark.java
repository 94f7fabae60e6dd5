package dev.backbone.bench.store;

import dev.backbone.store.BackboneStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Backbone's store against Kafka Streams' built-in RocksDB store, side by side: put with a commit
 * every {@value #COMMIT_EVERY} puts, get of present and absent keys, and a 100-key range scan, over
 * {@value #KEYS} keys of 100-byte values.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class StoreBenchmark {
  static final int KEYS = 100_000;
  static final int COMMIT_EVERY = 1_000;
  private static final TopicPartition CHANGELOG = new TopicPartition("bench-s-changelog", 0);
  private static final QueryConfig READ_COMMITTED =
      new QueryConfig(false, IsolationLevel.READ_COMMITTED);

  /** Which store: Kafka Streams' RocksDB store or Backbone's. */
  @Param({"stock", "backbone"})
  public String store;

  private Path dir;
  private KeyValueStore<Bytes, byte[]> kv;
  private final SplittableRandom random = new SplittableRandom(42);
  private final byte[] value = new byte[100];
  private long puts;

  /** Opens the store and loads every key, committed. */
  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("backbone-store-bench");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bench");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    MockProcessorContext<Object, Object> context =
        new MockProcessorContext<>(props, new TaskId(0, 0), dir.toFile());
    kv =
        "backbone".equals(store)
            ? BackboneStores.persistentKeyValueStore("s").get()
            : Stores.persistentKeyValueStore("s").get();
    kv.init(context.getStateStoreContext(), kv);
    for (int i = 0; i < KEYS; i++) {
      kv.put(key(i), value);
      if (i % COMMIT_EVERY == 0) {
        kv.commit(Map.of(CHANGELOG, (long) i));
      }
    }
    kv.commit(Map.of(CHANGELOG, (long) KEYS));
  }

  /** Closes the store and deletes its files. */
  @TearDown(Level.Trial)
  public void close() {
    kv.close();
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Bytes key(long i) {
    return Bytes.wrap(ByteBuffer.allocate(8).putLong(i).array());
  }

  /** One put; every {@value #COMMIT_EVERY} puts a commit. */
  @Benchmark
  public void putAndCommit() {
    kv.put(key(random.nextInt(KEYS)), value);
    if (++puts % COMMIT_EVERY == 0) {
      kv.commit(Map.of(CHANGELOG, KEYS + puts));
    }
  }

  /** Get of a present key. */
  @Benchmark
  public byte[] getHit() {
    return kv.get(key(random.nextInt(KEYS)));
  }

  /** Get of an absent key. */
  @Benchmark
  public byte[] getMiss() {
    return kv.get(key(KEYS + random.nextInt(KEYS)));
  }

  /**
   * The read an HTTP GET makes under exactly-once: IQv2 {@code KeyQuery} with {@code skipCache()}
   * at {@code READ_COMMITTED}, of a present key. (Kafka Streams' own store has no committed view
   * unless transactional state stores are on, so it answers from the same data as {@code get}.)
   */
  @Benchmark
  public Object queryCommittedHit() {
    return kv.query(
            KeyQuery.withKey(key(random.nextInt(KEYS))).skipCache(),
            PositionBound.unbounded(),
            READ_COMMITTED)
        .getResult();
  }

  /** As {@link #queryCommittedHit} for an absent key. */
  @Benchmark
  public Object queryCommittedMiss() {
    return kv.query(
            KeyQuery.withKey(key(KEYS + random.nextInt(KEYS))).skipCache(),
            PositionBound.unbounded(),
            READ_COMMITTED)
        .getResult();
  }

  /** Range scan over 100 consecutive keys. */
  @Benchmark
  public void rangeScan100(Blackhole hole) {
    long from = random.nextInt(KEYS - 100);
    try (KeyValueIterator<Bytes, byte[]> it = kv.range(key(from), key(from + 99))) {
      while (it.hasNext()) {
        hole.consume(it.next());
      }
    }
  }
}
