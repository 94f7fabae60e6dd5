package dev.backbone.store.internals;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.rocksdb.RocksIterator;

/**
 * The committed data (a RocksDB iterator, which reads an implicit snapshot) overlaid with the
 * uncommitted writes in range, copied when the iterator was created: so later writes never disturb
 * an open iterator, and an overlay entry whose value is {@link #TOMBSTONE} hides the key.
 */
final class MergedIterator implements KeyValueIterator<Bytes, byte[]> {
  static final byte[] TOMBSTONE = new byte[0];

  /** Entries read from RocksDB at a time. */
  static final int CHUNK = 64;

  /** An iterator over nothing. */
  static KeyValueIterator<Bytes, byte[]> empty() {
    return new KeyValueIterator<>() {
      @Override
      public void close() {}

      @Override
      public Bytes peekNextKey() {
        throw new NoSuchElementException("empty range");
      }

      @Override
      public boolean hasNext() {
        return false;
      }

      @Override
      public KeyValue<Bytes, byte[]> next() {
        throw new NoSuchElementException("empty range");
      }
    };
  }

  private final RocksIterator db;
  private final KeyRange range;
  private final boolean forward;
  private final Iterator<Map.Entry<Bytes, byte[]>> overlay;
  private final Consumer<MergedIterator> onClose;
  private Map.Entry<Bytes, byte[]> overlayHead;

  /** Entries read ahead of the reader, at most {@link #CHUNK}. */
  private final ArrayDeque<KeyValue<Bytes, byte[]>> ahead = new ArrayDeque<>();

  private boolean exhausted;
  private boolean dbValid;
  private volatile boolean open = true;

  MergedIterator(
      RocksIterator db,
      KeyRange range,
      boolean forward,
      NavigableMap<Bytes, byte[]> overlayInRange,
      Consumer<MergedIterator> onClose) {
    this.db = db;
    this.range = range;
    this.forward = forward;
    this.overlay =
        (forward ? overlayInRange : overlayInRange.descendingMap()).entrySet().iterator();
    this.onClose = onClose;
    this.overlayHead = overlay.hasNext() ? overlay.next() : null;
    if (forward) {
      if (range.lower() == null) {
        db.seekToFirst();
      } else {
        db.seek(range.lower().get());
      }
    } else if (range.upper() == null) {
      db.seekToLast();
    } else {
      db.seekForPrev(range.upper().get());
      if (db.isValid() && !range.upperInclusive() && Bytes.wrap(db.key()).equals(range.upper())) {
        db.prev();
      }
    }
    checkDb();
  }

  private void checkDb() {
    dbValid = db.isValid();
    if (dbValid) {
      Bytes key = Bytes.wrap(db.key());
      dbValid = forward ? range.belowUpper(key) : range.aboveLower(key);
    }
  }

  private void advanceDb() {
    if (forward) {
      db.next();
    } else {
      db.prev();
    }
    checkDb();
  }

  private void advanceOverlay() {
    overlayHead = overlay.hasNext() ? overlay.next() : null;
  }

  private KeyValue<Bytes, byte[]> fetch() {
    while (true) {
      Bytes dbKey = dbValid ? Bytes.wrap(db.key()) : null;
      if (dbKey == null && overlayHead == null) {
        return null;
      }
      int order;
      if (dbKey == null) {
        order = 1;
      } else if (overlayHead == null) {
        order = -1;
      } else {
        order = dbKey.compareTo(overlayHead.getKey());
        if (!forward) {
          order = -order;
        }
      }
      if (order < 0) {
        KeyValue<Bytes, byte[]> kv = KeyValue.pair(dbKey, db.value());
        advanceDb();
        return kv;
      }
      Map.Entry<Bytes, byte[]> o = overlayHead;
      advanceOverlay();
      if (order == 0) {
        advanceDb();
      }
      if (o.getValue() != TOMBSTONE) {
        return KeyValue.pair(o.getKey(), o.getValue());
      }
    }
  }

  private void ensureOpen() {
    if (!open) {
      throw new InvalidStateStoreException("the iterator is closed (or its store was closed)");
    }
  }

  // Only fill() and close() touch the native RocksDB iterator, and both hold the iterator's
  // monitor: a store closing under a reader on another thread never frees it while a read is
  // inside it (that would crash the JVM); the reader gets InvalidStateStoreException instead.
  // fill() reads CHUNK entries at a time, so the reader takes the monitor once per chunk, not
  // twice per entry.

  @Override
  public boolean hasNext() {
    ensureOpen();
    if (ahead.isEmpty() && !exhausted) {
      fill();
    }
    return !ahead.isEmpty();
  }

  private synchronized void fill() {
    ensureOpen();
    for (int i = 0; i < CHUNK; i++) {
      KeyValue<Bytes, byte[]> kv = fetch();
      if (kv == null) {
        exhausted = true;
        return;
      }
      ahead.add(kv);
    }
  }

  @Override
  public KeyValue<Bytes, byte[]> next() {
    if (!hasNext()) {
      throw new NoSuchElementException("no more entries in this range");
    }
    return ahead.poll();
  }

  @Override
  public Bytes peekNextKey() {
    if (!hasNext()) {
      throw new NoSuchElementException("no more entries in this range");
    }
    return ahead.peek().key;
  }

  @Override
  public synchronized void close() {
    if (open) {
      open = false;
      db.close();
      onClose.accept(this);
    }
  }
}
