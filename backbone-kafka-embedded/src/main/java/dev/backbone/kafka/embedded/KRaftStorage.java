package dev.backbone.kafka.embedded;

import dev.backbone.errors.FatalBackboneException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.metadata.properties.MetaProperties;
import org.apache.kafka.metadata.properties.MetaPropertiesEnsemble;
import org.apache.kafka.metadata.properties.MetaPropertiesEnsemble.VerificationFlag;
import org.apache.kafka.metadata.properties.MetaPropertiesVersion;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-disk state of an embedded broker: one combined log directory under the data directory that
 * holds both the partition logs and the KRaft metadata log.
 *
 * <p>Invariant: a log directory is formatted at most once. The cluster id is written into {@code
 * meta.properties} by the first format and read back on every later start, so a restart on the same
 * data directory joins the same cluster and keeps its topics. A directory that already has content
 * but no {@code meta.properties} (or one written for another node or by a ZooKeeper-era broker) is
 * refused rather than formatted over, because formatting would silently hide whatever the caller
 * pointed us at.
 */
final class KRaftStorage {
  /** Same name as in Kafka's quickstart, so an operator recognises the layout. */
  static final String LOG_DIR_NAME = "kraft-combined-logs";

  private static final Logger log = LoggerFactory.getLogger(KRaftStorage.class);

  private final Path dataDir;
  private final Path logDir;

  KRaftStorage(Path dataDir) {
    this.dataDir = dataDir.toAbsolutePath().normalize();
    this.logDir = this.dataDir.resolve(LOG_DIR_NAME);
  }

  Path dataDir() {
    return dataDir;
  }

  Path logDir() {
    return logDir;
  }

  /**
   * Makes the data directory ready for a broker with the given node id: creates and formats it on
   * first use, verifies it on later uses.
   *
   * @return the cluster id stored in the directory
   */
  String prepare(int nodeId, String controllerListenerName) {
    requireUsableDirectory(dataDir);
    requireUsableDirectory(logDir);
    MetaPropertiesEnsemble ensemble = load();
    if (!ensemble.errorLogDirs().isEmpty()) {
      throw unusable(
          "its meta.properties cannot be read (see the error logged by Kafka just before)", null);
    }
    if (ensemble.logDirProps().isEmpty()) {
      requireEmpty();
      return format(nodeId, controllerListenerName);
    }
    MetaProperties props = ensemble.logDirProps().values().iterator().next();
    if (props.version() != MetaPropertiesVersion.V1) {
      throw unusable("it was written by a ZooKeeper-based Kafka broker, not a KRaft one", null);
    }
    try {
      ensemble.verify(
          Optional.empty(),
          OptionalInt.of(nodeId),
          EnumSet.of(
              VerificationFlag.REQUIRE_AT_LEAST_ONE_VALID,
              VerificationFlag.REQUIRE_METADATA_LOG_DIR));
    } catch (RuntimeException e) {
      throw unusable("it belongs to another Kafka node: " + e.getMessage(), e);
    }
    return ensemble
        .clusterId()
        .orElseThrow(() -> unusable("its meta.properties has no cluster.id", null));
  }

  private MetaPropertiesEnsemble load() {
    try {
      return new MetaPropertiesEnsemble.Loader().addMetadataLogDir(logDir.toString()).load();
    } catch (IOException | RuntimeException e) {
      throw unusable("its meta.properties cannot be read: " + e.getMessage(), e);
    }
  }

  private void requireEmpty() {
    try (Stream<Path> entries = Files.list(logDir)) {
      Optional<Path> first = entries.findFirst();
      if (first.isPresent()) {
        throw unusable(
            "it holds files (e.g. "
                + first.get().getFileName()
                + ") but no meta.properties, so it is not a formatted Kafka log directory",
            null);
      }
    } catch (IOException e) {
      throw unusable("it cannot be listed: " + e.getMessage(), e);
    }
  }

  private String format(int nodeId, String controllerListenerName) {
    String clusterId = Uuid.randomUuid().toString();
    // The formatter reports to a PrintStream meant for a terminal; keep that out of the host's
    // stdout and hand it to the logger instead.
    ByteArrayOutputStream report = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(report, true, StandardCharsets.UTF_8)) {
      new Formatter()
          .setPrintStream(out)
          .setNodeId(nodeId)
          .setClusterId(clusterId)
          .setDirectories(List.of(logDir.toString()))
          .setMetadataLogDirectory(logDir.toString())
          .setControllerListenerName(controllerListenerName)
          // A static quorum (controller.quorum.voters, kraft.version 0) takes the controller
          // endpoint from the configuration on every start, so a restart may use another port.
          .setHasDynamicQuorum(false)
          .run();
    } catch (Exception e) {
      throw unusable("formatting it failed: " + e.getMessage(), e);
    }
    log.info("Formatted {} for new cluster {}", logDir, clusterId);
    log.debug("Kafka's formatter reported: {}", report.toString(StandardCharsets.UTF_8).trim());
    return clusterId;
  }

  private void requireUsableDirectory(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new FatalBackboneException(
          "KAFKA_DATA_DIR_UNUSABLE",
          "Embedded Kafka cannot use "
              + dir
              + " as a directory ("
              + e
              + "); pass a data directory that is, or can be created as, a writable directory.",
          e);
    }
    if (!Files.isReadable(dir) || !Files.isWritable(dir) || !Files.isExecutable(dir)) {
      throw new FatalBackboneException(
          "KAFKA_DATA_DIR_UNUSABLE",
          "Embedded Kafka cannot read and write "
              + dir
              + "; fix its permissions or pass another data directory.");
    }
  }

  private FatalBackboneException unusable(String reason, Throwable cause) {
    return new FatalBackboneException(
        "KAFKA_DATA_DIR_UNUSABLE",
        "Embedded Kafka cannot use the log directory "
            + logDir
            + " (under data dir "
            + dataDir
            + ") because "
            + reason
            + ". Point the broker at an empty or Backbone-made data directory, or move this one"
            + " away.",
        cause);
  }
}
