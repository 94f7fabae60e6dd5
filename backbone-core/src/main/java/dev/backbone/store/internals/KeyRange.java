package dev.backbone.store.internals;

import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds of a scan: {@code lower} inclusive (null: from the first key), {@code upper} inclusive or
 * exclusive (null: to the last key). Bytes compare as unsigned, as RocksDB's bytewise comparator.
 */
record KeyRange(Bytes lower, Bytes upper, boolean upperInclusive) {
  static final KeyRange ALL = new KeyRange(null, null, false);

  static KeyRange closed(Bytes from, Bytes to) {
    return new KeyRange(from, to, true);
  }

  /**
   * The closed range a caller of {@code range(from, to)} asked for; empty, with a warning as Kafka
   * Streams' own stores give, when {@code from} sorts after {@code to}.
   */
  static KeyRange requested(Bytes from, Bytes to) {
    KeyRange range = closed(from, to);
    if (range.isEmpty()) {
      Holder.LOG.warn(
          "range from {} to {}: the from key is greater than the to key; the result is empty. "
              + "Note that the built-in numerical serdes do not follow numerical order when "
              + "negative numbers are used.",
          from,
          to);
    }
    return range;
  }

  private static final class Holder {
    static final Logger LOG = LoggerFactory.getLogger(KeyRange.class);
  }

  /** Every key starting with {@code prefix} serialized by {@code serializer}. */
  static <P> KeyRange prefix(P prefix, Serializer<P> serializer) {
    if (prefix == null || serializer == null) {
      throw new NullPointerException("prefix and its serializer must not be null");
    }
    return prefix(Bytes.wrap(serializer.serialize(null, prefix)));
  }

  /** Every key starting with {@code prefix}. */
  static KeyRange prefix(Bytes prefix) {
    byte[] p = prefix.get();
    int last = p.length - 1;
    while (last >= 0 && p[last] == (byte) 0xFF) {
      last--;
    }
    if (last < 0) {
      return new KeyRange(prefix, null, false); // all-0xFF prefix: no finite upper bound
    }
    byte[] upper = new byte[last + 1];
    System.arraycopy(p, 0, upper, 0, last + 1);
    upper[last]++;
    return new KeyRange(prefix, Bytes.wrap(upper), false);
  }

  boolean isEmpty() {
    if (lower == null || upper == null) {
      return false;
    }
    int c = lower.compareTo(upper);
    return c > 0 || (c == 0 && !upperInclusive);
  }

  boolean aboveLower(Bytes key) {
    return lower == null || key.compareTo(lower) >= 0;
  }

  boolean belowUpper(Bytes key) {
    if (upper == null) {
      return true;
    }
    int c = key.compareTo(upper);
    return upperInclusive ? c <= 0 : c < 0;
  }

  boolean contains(Bytes key) {
    return aboveLower(key) && belowUpper(key);
  }
}
