package dev.backbone.store;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * What a snapshot directory holds, written as {@value #FILE_NAME} inside it, last: a directory
 * without a readable manifest is not a snapshot.
 *
 * <p>A snapshot is one consistent pair (data, changelog offsets): the offsets are read back from
 * the checkpoint itself, never from the live store, so they always belong to the files listed.
 *
 * @param formatVersion {@link #FORMAT_VERSION} when written by this version
 * @param applicationId Kafka Streams {@code application.id} of the store's application
 * @param taskId the task, as {@code TaskId#toString()} ({@code 0_3})
 * @param storeName the store's name
 * @param changelogOffsets the committed offset of every changelog partition the data covers; one
 *     entry for a store of one task, several once rescale builds a store from a merge; empty for a
 *     store without changelog or that never committed
 * @param files every file of the snapshot with size and checksum, the manifest excluded
 * @param createdAt when the checkpoint was cut
 * @param dataAsOf when the data was last known current with its changelog offsets (no changelog
 *     record after them had been written then): the time of the store's last commit of processing
 *     writes; null if it never committed any (a store that only restored). An install refuses a
 *     snapshot whose data is older than the changelog's {@code delete.retention.ms}.
 * @param recordsThrough per changelog partition, an offset through which the changelog holds no
 *     record the data lacks, when that is past {@code changelogOffsets}: established as the
 *     snapshot was cut (the lender read the changelog's end and saw only transaction markers or
 *     aborted records after the store's last record). A store that installs the snapshot restores
 *     from the offset after it, so a changelog whose retention deleted those markers still serves
 *     it. Empty when nothing was established (and in manifests written before it existed).
 */
public record SnapshotManifest(
    int formatVersion,
    String applicationId,
    String taskId,
    String storeName,
    List<ChangelogOffset> changelogOffsets,
    List<SnapshotFile> files,
    Instant createdAt,
    Instant dataAsOf,
    List<ChangelogOffset> recordsThrough) {

  /** The manifest format this version writes and reads. */
  public static final int FORMAT_VERSION = 2;

  /** Name of the manifest file inside a snapshot directory. */
  public static final String FILE_NAME = "backbone-snapshot.json";

  /**
   * The manifest's JSON form, the one definition every reader and writer uses: times as ISO-8601
   * strings, unknown properties ignored (a newer writer may add some).
   */
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(
              new SimpleModule()
                  .addSerializer(Instant.class, ToStringSerializer.instance)
                  .addDeserializer(
                      Instant.class,
                      new JsonDeserializer<>() {
                        @Override
                        public Instant deserialize(JsonParser p, DeserializationContext ctxt)
                            throws IOException {
                          return Instant.parse(p.getValueAsString());
                        }
                      }))
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** Checks that every field but {@code dataAsOf} is present. */
  public SnapshotManifest {
    Objects.requireNonNull(applicationId, "applicationId");
    Objects.requireNonNull(taskId, "taskId");
    Objects.requireNonNull(storeName, "storeName");
    changelogOffsets = List.copyOf(Objects.requireNonNull(changelogOffsets, "changelogOffsets"));
    files = List.copyOf(Objects.requireNonNull(files, "files"));
    recordsThrough = recordsThrough == null ? List.of() : List.copyOf(recordsThrough);
    Objects.requireNonNull(createdAt, "createdAt");
  }

  /**
   * Reads a manifest from the bytes of a {@value #FILE_NAME}.
   *
   * @throws IllegalArgumentException if the bytes are not a manifest, or one of another {@link
   *     #FORMAT_VERSION}; the message says which (the caller adds where the bytes came from)
   */
  public static SnapshotManifest fromJson(byte[] json) {
    Objects.requireNonNull(json, "json");
    try {
      JsonNode tree = JSON.readTree(json);
      if (tree == null || !tree.isObject()) {
        throw new IllegalArgumentException("not a snapshot manifest (no JSON object)");
      }
      JsonNode version = tree.path("formatVersion");
      if (!version.isInt() || version.intValue() != FORMAT_VERSION) {
        throw new IllegalArgumentException(
            "manifest format version "
                + (version.isMissingNode() ? "missing" : version.toString())
                + ", this Backbone reads only version "
                + FORMAT_VERSION);
      }
      return JSON.treeToValue(tree, SnapshotManifest.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a readable snapshot manifest: " + e.getMessage(), e);
    }
  }

  /** This manifest as the JSON {@link #fromJson} reads. */
  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException("a manifest is always JSON", e);
    }
  }

  /** The committed offset of one changelog partition, if the snapshot covers it. */
  public Optional<Long> offsetOf(String topic, int partition) {
    return changelogOffsets.stream()
        .filter(o -> o.topic().equals(topic) && o.partition() == partition)
        .map(ChangelogOffset::offset)
        .findFirst();
  }

  /**
   * The offset through which the snapshot holds every record of one changelog partition: {@link
   * #recordsThrough} where established, else the committed offset; empty if it covers none.
   */
  public Optional<Long> coveredThrough(String topic, int partition) {
    Optional<Long> committed = offsetOf(topic, partition);
    Optional<Long> records =
        recordsThrough.stream()
            .filter(o -> o.topic().equals(topic) && o.partition() == partition)
            .map(ChangelogOffset::offset)
            .findFirst();
    if (records.isPresent() && committed.isPresent()) {
      return Optional.of(Math.max(records.get(), committed.get()));
    }
    return committed;
  }

  /** The highest offset through which the snapshot holds every record, over its partitions. */
  public long highestCoveredOffset() {
    long highest = -1;
    for (ChangelogOffset o : changelogOffsets) {
      highest = Math.max(highest, coveredThrough(o.topic(), o.partition()).orElse(-1L));
    }
    return highest;
  }

  /** Total bytes of the snapshot's files. */
  public long totalBytes() {
    return files.stream().mapToLong(SnapshotFile::size).sum();
  }

  /**
   * The committed offset of one changelog partition: the offset of the last changelog record the
   * data contains (Kafka Streams restores from the next one).
   *
   * @param topic changelog topic
   * @param partition changelog partition
   * @param offset last applied offset
   */
  public record ChangelogOffset(String topic, int partition, long offset) {
    /** Checks the fields. */
    public ChangelogOffset {
      Objects.requireNonNull(topic, "topic");
    }
  }

  /**
   * One file of a snapshot.
   *
   * @param name file name, relative to the snapshot directory, no separators
   * @param size bytes
   * @param crc32c CRC32C of the content, 8 lower-case hex digits
   */
  public record SnapshotFile(String name, long size, String crc32c) {
    /** Checks the fields. */
    public SnapshotFile {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(crc32c, "crc32c");
      if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
        throw new IllegalArgumentException("a snapshot file name must be a plain name: " + name);
      }
    }

    /**
     * The checksum a manifest records for a file's content: CRC32C, 8 lower-case hex digits. One
     * definition for the snapshot that writes it, the install that checks it and the peer copy that
     * verifies each file it receives.
     */
    public static String checksumOf(Path file) throws IOException {
      CRC32C crc = new CRC32C();
      byte[] buffer = new byte[1 << 16];
      try (InputStream in = Files.newInputStream(file)) {
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          crc.update(buffer, 0, n);
        }
      }
      return checksumText(crc);
    }

    /** The manifest's text of a CRC32C computed elsewhere (as bytes stream in). */
    public static String checksumText(CRC32C crc) {
      return String.format("%08x", crc.getValue());
    }
  }
}
