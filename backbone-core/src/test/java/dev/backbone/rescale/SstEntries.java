package dev.backbone.rescale;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.SstFileReader;
import org.rocksdb.SstFileReaderIterator;

/** Reads an SST file back for tests: its entries in file order, each {key, value}. */
public final class SstEntries {
  private SstEntries() {}

  /** Every entry of {@code sst}, in the order the file holds them. */
  public static List<byte[][]> read(Path sst) throws RocksDBException {
    List<byte[][]> out = new ArrayList<>();
    try (Options options = new Options();
        SstFileReader reader = new SstFileReader(options);
        ReadOptions read = new ReadOptions()) {
      reader.open(sst.toString());
      try (SstFileReaderIterator it = reader.newIterator(read)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          out.add(new byte[][] {it.key(), it.value()});
        }
      }
    }
    return out;
  }
}
