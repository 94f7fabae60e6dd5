package dev.backbone.store.internals;

import dev.backbone.store.StoredValueQuery;
import java.util.Arrays;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.RangeQuery;
import org.apache.kafka.streams.query.ResultOrder;
import org.apache.kafka.streams.state.HeadersBytesStore;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.TimestampedBytesStore;

/**
 * IQv2 on a Backbone store: key and range queries, at the isolation level the query asks ({@code
 * QueryConfig#getIsolationLevel}, Kafka Streams 4.4, KIP-892), with the position of exactly the
 * data the answer was read from.
 *
 * <p>{@code READ_COMMITTED} answers from RocksDB alone, with the position of the last commit: what
 * a crash would keep. {@code READ_UNCOMMITTED} (Kafka Streams' default) also sees the write buffer.
 * The value and its position are taken under the store's batch lock together, so a commit between
 * them cannot make the position claim more (or less) than the value reflects; a position bound is
 * checked against that same position.
 */
final class StoreQueries {
  private StoreQueries() {}

  @SuppressWarnings("unchecked")
  static <R> QueryResult<R> query(
      BackboneKeyValueStore store, Query<R> query, PositionBound bound, QueryConfig config) {
    long start = System.nanoTime();
    boolean collectInfo = config != null && config.isCollectExecutionInfo();
    IsolationLevel isolation =
        config == null ? IsolationLevel.READ_UNCOMMITTED : config.getIsolationLevel();
    Integer partition = store.taskId() == null ? null : store.taskId().partition();
    QueryResult<R> result;
    Position seen;
    if (query instanceof KeyQuery<?, ?> keyQuery) {
      BackboneKeyValueStore.Read read = store.read((Bytes) keyQuery.getKey(), isolation);
      seen = read.position();
      result = (QueryResult<R>) QueryResult.forResult(read.value());
    } else if (query instanceof StoredValueQuery stored && !(store instanceof HeadersBytesStore)) {
      BackboneKeyValueStore.Read read = store.read(stored.key(), isolation);
      seen = read.position();
      result = (QueryResult<R>) QueryResult.forResult(unframed(store, read.value()));
    } else if (query instanceof RangeQuery<?, ?> rangeQuery) {
      Bytes lower = (Bytes) rangeQuery.getLowerBound().orElse(null);
      Bytes upper = (Bytes) rangeQuery.getUpperBound().orElse(null);
      boolean forward = rangeQuery.resultOrder() != ResultOrder.DESCENDING;
      KeyRange range =
          lower == null && upper == null ? KeyRange.ALL : new KeyRange(lower, upper, true);
      BackboneKeyValueStore.Scan scan =
          store.scan(range, forward, isolation == IsolationLevel.READ_COMMITTED);
      seen = scan.position();
      if (!PositionBounds.permits(seen, bound, partition)) {
        scan.iterator().close();
        return notUpTo(seen, bound, partition, collectInfo, store, start);
      }
      KeyValueIterator<Bytes, byte[]> it = scan.iterator();
      result = (QueryResult<R>) QueryResult.forResult(it);
    } else {
      result = QueryResult.forUnknownQueryType(query, store);
      seen = store.getPosition().copy();
    }
    if (!PositionBounds.permits(seen, bound, partition)) {
      return notUpTo(seen, bound, partition, collectInfo, store, start);
    }
    if (collectInfo) {
      result.addExecutionInfo(info(store, start, seen, isolation));
    }
    result.setPosition(seen);
    return result;
  }

  /**
   * A stored value without its format's framing: a timestamped store's values start with the
   * record's 8-byte timestamp ({@code ValueAndTimestampSerializer}, Kafka Streams 4.4.0), a plain
   * store's are the serde's bytes as they are.
   */
  private static byte[] unframed(BackboneKeyValueStore store, byte[] stored) {
    if (stored == null || !(store instanceof TimestampedBytesStore)) {
      return stored;
    }
    if (stored.length < Long.BYTES) {
      throw new IllegalStateException(
          "store '"
              + store.name()
              + "' holds a timestamped value of "
              + stored.length
              + " bytes, shorter than its 8-byte timestamp");
    }
    return Arrays.copyOfRange(stored, Long.BYTES, stored.length);
  }

  private static <R> QueryResult<R> notUpTo(
      Position seen,
      PositionBound bound,
      Integer partition,
      boolean collectInfo,
      BackboneKeyValueStore store,
      long start) {
    QueryResult<R> result = QueryResult.notUpToBound(seen, bound, partition);
    if (collectInfo) {
      result.addExecutionInfo(info(store, start, seen, null));
    }
    return result;
  }

  private static String info(
      BackboneKeyValueStore store, long start, Position seen, IsolationLevel isolation) {
    return "Handled in "
        + store.getClass().getName()
        + " in "
        + (System.nanoTime() - start)
        + "ns with position "
        + seen
        + (isolation == null ? "" : " at " + isolation);
  }
}
