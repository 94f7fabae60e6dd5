package dev.backbone.config;

import dev.backbone.bootstrap.CopyOrReplay;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.retention.ArchiveSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * Every Backbone setting, prefixed {@code backbone.}, given in the same {@link Properties} as the
 * Kafka Streams settings of a node. Unknown {@code backbone.*} keys are rejected so a typo never
 * silently falls back to a default; all other keys are left to Kafka Streams.
 */
public final class BackboneConfig extends AbstractConfig {
  /** Prefix of every Backbone setting. */
  public static final String PREFIX = "backbone.";

  public static final String NODE_ID_CONFIG = "backbone.node.id";
  private static final String NODE_ID_DOC =
      "Stable, human-readable id of this node, unique in the cluster (e.g. node-1). Shown in every"
          + " HTTP answer and on the dashboard.";

  public static final String HTTP_HOST_CONFIG = "backbone.http.host";
  private static final String HTTP_HOST_DOC = "Address the HTTP server binds to.";

  public static final String HTTP_PORT_CONFIG = "backbone.http.port";
  private static final String HTTP_PORT_DOC = "Port of the HTTP server (query, admin, metrics).";

  public static final String HTTP_ADVERTISED_HOST_CONFIG = "backbone.http.advertised.host";
  private static final String HTTP_ADVERTISED_HOST_DOC =
      "Host name other nodes and clients use to reach this node's HTTP server. Defaults to"
          + " backbone.http.host, or 127.0.0.1 when that is a wildcard address.";

  public static final String HTTP_FORWARD_TIMEOUT_MS_CONFIG = "backbone.http.forward.timeout.ms";
  private static final String HTTP_FORWARD_TIMEOUT_MS_DOC =
      "How long a node waits for the owner of a key when it forwards a read.";

  public static final String REBALANCE_RETRY_AFTER_SECONDS_CONFIG =
      "backbone.http.retry.after.seconds";
  private static final String REBALANCE_RETRY_AFTER_SECONDS_DOC =
      "Retry-After value of a 503 answer given while a rebalance hides the owner of a key.";

  public static final String ROUTING_DELEGATE_ASSIGNOR_CLASS_CONFIG =
      "backbone.routing.delegate.assignor.class";
  private static final String ROUTING_DELEGATE_ASSIGNOR_CLASS_DOC =
      "The KIP-924 task assignor (org.apache.kafka.streams.processor.assignment.TaskAssignor) that"
          + " computes the assignment of stages with a queryable store; Backbone wraps it to"
          + " publish the routing table. Default: Backbone's rack-aware assignor.";

  public static final String HTTP_MAX_SCAN_LIMIT_CONFIG = "backbone.http.max.scan.limit";
  private static final String HTTP_MAX_SCAN_LIMIT_DOC =
      "Most keys one page of a range or prefix scan may ask for (limit=); a larger limit is"
          + " refused with 400 LIMIT_EXCEEDED.";

  public static final String HTTP_MAX_BATCH_KEYS_CONFIG = "backbone.http.max.batch.keys";
  private static final String HTTP_MAX_BATCH_KEYS_DOC =
      "Most keys one batch get may name; more is refused with 400 LIMIT_EXCEEDED.";

  public static final String HTTP_MAX_KEY_BYTES_CONFIG = "backbone.http.max.key.bytes";
  private static final String HTTP_MAX_KEY_BYTES_DOC =
      "Longest key the HTTP API accepts, in bytes of UTF-8 once percent-decoded; a longer one is"
          + " refused with 400 BAD_KEY.";

  public static final String HTTP_MAX_BATCH_EVENTS_CONFIG = "backbone.http.max.batch.events";
  private static final String HTTP_MAX_BATCH_EVENTS_DOC =
      "Most events one POST /v1/events may carry; more is refused with 400 LIMIT_EXCEEDED.";

  public static final String HTTP_TLS_KEYSTORE_PATH_CONFIG = "backbone.http.tls.keystore.path";
  private static final String HTTP_TLS_KEYSTORE_PATH_DOC =
      "When set, the HTTP server speaks only HTTPS, with the key and certificate of this"
          + " keystore (PKCS12 or JKS); peers and clients then use https:// endpoints. Every node"
          + " of a cluster serves HTTPS or none does.";

  public static final String HTTP_TLS_KEYSTORE_PASSWORD_CONFIG =
      "backbone.http.tls.keystore.password";
  private static final String HTTP_TLS_KEYSTORE_PASSWORD_DOC =
      "Password of the keystore (and of its key).";

  public static final String HTTP_TLS_TRUSTSTORE_PATH_CONFIG = "backbone.http.tls.truststore.path";
  private static final String HTTP_TLS_TRUSTSTORE_PATH_DOC =
      "Certificates this node trusts when it calls its peers over HTTPS (forwarded reads, snapshot"
          + " transfer); unset: the JVM's default trust store.";

  public static final String HTTP_TLS_TRUSTSTORE_PASSWORD_CONFIG =
      "backbone.http.tls.truststore.password";
  private static final String HTTP_TLS_TRUSTSTORE_PASSWORD_DOC = "Password of the trust store.";

  public static final String HTTP_MAX_BODY_BYTES_CONFIG = "backbone.http.max.body.bytes";
  private static final String HTTP_MAX_BODY_BYTES_DOC =
      "Largest request body the HTTP API accepts; a larger one is refused with 413"
          + " BODY_TOO_LARGE.";

  public static final String HTTP_AUTH_TOKEN_CONFIG = "backbone.http.auth.token";
  private static final String HTTP_AUTH_TOKEN_DOC =
      "When set, every HTTP call but the health checks needs 'Authorization: Bearer <token>' (401"
          + " without it, 403 with another token). The CLI's --auth-token or the"
          + " BACKBONE_AUTH_TOKEN environment variable set it.";

  public static final String CLUSTER_SECRET_CONFIG = "backbone.cluster.secret";
  private static final int MIN_SECRET_LENGTH = 16;
  private static final String CLUSTER_SECRET_DOC =
      "Shared secret every node of a cluster presents on internal calls (snapshot transfer) in the"
          + " X-Backbone-Cluster-Secret header; at least 16 characters. Without it this node serves"
          + " no internal call and fetches no snapshot. The demo generates one into its data dir.";

  public static final String BOOTSTRAP_MAX_SNAPSHOTS_CONFIG = "backbone.bootstrap.max.snapshots";
  private static final String BOOTSTRAP_MAX_SNAPSHOTS_DOC =
      "Snapshots this node lends to peers at once; a further request is answered 503"
          + " SNAPSHOTS_BUSY. Each holds hard links of a store's files, so disk use grows only as"
          + " the live store compacts them away.";

  public static final String BOOTSTRAP_SNAPSHOT_LEASE_MS_CONFIG =
      "backbone.bootstrap.snapshot.lease.ms";
  private static final String BOOTSTRAP_SNAPSHOT_LEASE_MS_DOC =
      "How long a lent snapshot is kept after it was last lent when the borrower never releases"
          + " it (it crashed); a finished fetch releases it at once.";

  public static final String BOOTSTRAP_SNAPSHOT_REUSE_MS_CONFIG =
      "backbone.bootstrap.snapshot.reuse.ms";
  private static final String BOOTSTRAP_SNAPSHOT_REUSE_MS_DOC =
      "A snapshot cut at most this long ago is lent again instead of cutting a new one (several"
          + " peers bootstrapping the same task at once); 0 always cuts a new one.";

  public static final String BOOTSTRAP_MIN_LAG_RECORDS_CONFIG =
      "backbone.bootstrap.min.lag.records";
  private static final String BOOTSTRAP_MIN_LAG_RECORDS_DOC =
      "A store without local state is copied from a peer only if its changelog partition holds at"
          + " least this many records (end offset minus start offset); a smaller one restores from"
          + " the changelog, which is then about as fast as a copy. 0 copies every empty store"
          + " that has a peer.";

  public static final String BOOTSTRAP_MAX_SOURCE_LAG_RECORDS_CONFIG =
      "backbone.bootstrap.max.source.lag.records";
  private static final String BOOTSTRAP_MAX_SOURCE_LAG_RECORDS_DOC =
      "A standby on this node's rack is copied from before a replica on another rack only if its"
          + " snapshot is within this many records of the changelog's end; else the fresher"
          + " replica is asked. The tail after a copy is replayed either way.";

  public static final String BOOTSTRAP_PARALLELISM_CONFIG = "backbone.bootstrap.parallelism";
  private static final String BOOTSTRAP_PARALLELISM_DOC =
      "Files of one snapshot copied at once during cold bootstrap.";

  public static final String BOOTSTRAP_CONCURRENT_CONFIG = "backbone.bootstrap.concurrent.stores";
  private static final String BOOTSTRAP_CONCURRENT_DOC =
      "Stores this node fills from peers at once; the others wait their turn.";

  public static final String BOOTSTRAP_THROTTLE_BYTES_PER_SEC_CONFIG =
      "backbone.bootstrap.throttle.bytes.per.sec";
  private static final String BOOTSTRAP_THROTTLE_BYTES_PER_SEC_DOC =
      "Bytes per second one store's copy may take from the network; 0 for no limit.";

  public static final String BOOTSTRAP_REQUEST_TIMEOUT_MS_CONFIG =
      "backbone.bootstrap.request.timeout.ms";
  private static final String BOOTSTRAP_REQUEST_TIMEOUT_MS_DOC =
      "How long a copy waits for a peer's answer, and for each next chunk of a file, before it"
          + " gives the transfer up (and resumes it, or moves to the next peer).";

  public static final String BOOTSTRAP_ESTIMATE_REPLAY_RECORDS_PER_SEC_CONFIG =
      "backbone.bootstrap.estimate.replay.records.per.sec";
  private static final String BOOTSTRAP_ESTIMATE_REPLAY_RECORDS_PER_SEC_DOC =
      "Changelog records per second a restore is assumed to replay, when a store that came back"
          + " with old local state weighs replaying its tail against copying a peer's snapshot."
          + " The default is what Kafka Streams restores on a 2-core machine with 100-byte values.";

  public static final String BOOTSTRAP_ESTIMATE_COPY_BYTES_PER_SEC_CONFIG =
      "backbone.bootstrap.estimate.copy.bytes.per.sec";
  private static final String BOOTSTRAP_ESTIMATE_COPY_BYTES_PER_SEC_DOC =
      "Snapshot bytes per second a copy is assumed to move (the throttle, if lower), in the same"
          + " weighing. The default assumes a 1 Gb/s network; on one machine copies run at 300 MB/s.";

  public static final String BOOTSTRAP_INIT_WAIT_MS_CONFIG = "backbone.bootstrap.init.wait.ms";
  private static final String BOOTSTRAP_INIT_WAIT_MS_DOC =
      "How long a store's initialization may wait, once, for a copy that is about to finish (its"
          + " ETA within this bound), instead of failing and waiting for Kafka Streams' next retry,"
          + " which comes 1-5 s later. The wait stalls the stream thread's other tasks for at most"
          + " this long; 0 never waits.";

  public static final String CHANGELOG_RETENTION_MS_CONFIG = "backbone.changelog.retention.ms";
  private static final String CHANGELOG_RETENTION_MS_DOC =
      "-1 (the default) keeps Kafka Streams' changelogs as they are: compacted, kept forever. A"
          + " positive value bounds them: every changelog of this node's stages is set to"
          + " cleanup.policy=compact,delete with this retention.ms, which is safe because every"
          + " replica can be rebuilt from a snapshot (a live peer's, else the archive's) plus the"
          + " tail. Needs backbone.archive.uri and at least 3 x backbone.snapshot.interval.ms"
          + " (docs/retention.md).";

  /** How many snapshot intervals a bounded changelog retention must span at least. */
  public static final int RETENTION_SNAPSHOT_INTERVALS = 3;

  public static final String SNAPSHOT_INTERVAL_MS_CONFIG = "backbone.snapshot.interval.ms";
  private static final String SNAPSHOT_INTERVAL_MS_DOC =
      "How often each active task's stores are snapshotted and uploaded to the archive (only with"
          + " backbone.archive.uri). The changelog must keep at least "
          + RETENTION_SNAPSHOT_INTERVALS
          + " intervals of records, and its delete.retention.ms must exceed "
          + RETENTION_SNAPSHOT_INTERVALS
          + " intervals too (a snapshot older than that is never installed).";

  public static final String ARCHIVE_URI_CONFIG = "backbone.archive.uri";
  private static final String ARCHIVE_URI_DOC =
      "Where snapshots are archived beyond the life of every node: file:///path (a local or"
          + " shared directory) or s3://bucket/prefix (any S3-compatible store, see"
          + " backbone.archive.s3.*). Empty: no archive; a store is then rebuilt only from live"
          + " peers and the changelog.";

  public static final String ARCHIVE_KEEP_SNAPSHOTS_CONFIG = "backbone.archive.keep.snapshots";
  private static final String ARCHIVE_KEEP_SNAPSHOTS_DOC =
      "Archived snapshots kept per store; older ones, and files only they named, are deleted"
          + " after each upload.";

  public static final String ARCHIVE_PARALLELISM_CONFIG = "backbone.archive.parallelism";
  private static final String ARCHIVE_PARALLELISM_DOC =
      "Files uploaded or downloaded at once per snapshot.";

  public static final String ARCHIVE_THROTTLE_BYTES_PER_SEC_CONFIG =
      "backbone.archive.throttle.bytes.per.sec";
  private static final String ARCHIVE_THROTTLE_BYTES_PER_SEC_DOC =
      "Bytes per second one snapshot's download from the archive may take; 0 for no limit.";

  public static final String ARCHIVE_S3_ENDPOINT_CONFIG = "backbone.archive.s3.endpoint";
  private static final String ARCHIVE_S3_ENDPOINT_DOC =
      "Endpoint of an S3-compatible store (http://127.0.0.1:9000); empty for AWS S3 itself.";

  public static final String ARCHIVE_S3_REGION_CONFIG = "backbone.archive.s3.region";
  private static final String ARCHIVE_S3_REGION_DOC = "Region of the bucket.";

  public static final String ARCHIVE_S3_ACCESS_KEY_CONFIG = "backbone.archive.s3.access.key";
  private static final String ARCHIVE_S3_ACCESS_KEY_DOC =
      "Access key id; with the secret key. Unset: the AWS SDK's default credential chain.";

  public static final String ARCHIVE_S3_SECRET_KEY_CONFIG = "backbone.archive.s3.secret.key";
  private static final String ARCHIVE_S3_SECRET_KEY_DOC = "Secret access key.";

  public static final String ARCHIVE_S3_PATH_STYLE_CONFIG = "backbone.archive.s3.path.style";
  private static final String ARCHIVE_S3_PATH_STYLE_DOC =
      "Path-style bucket addressing (http://host/bucket/key), which most S3-compatible stores"
          + " need.";

  private static final ConfigDef CONFIG =
      new ConfigDef()
          .define(NODE_ID_CONFIG, Type.STRING, "node-1", Importance.HIGH, NODE_ID_DOC)
          .define(HTTP_HOST_CONFIG, Type.STRING, "127.0.0.1", Importance.HIGH, HTTP_HOST_DOC)
          .define(
              HTTP_PORT_CONFIG,
              Type.INT,
              7070,
              Range.between(0, 65535),
              Importance.HIGH,
              HTTP_PORT_DOC)
          .define(
              HTTP_ADVERTISED_HOST_CONFIG,
              Type.STRING,
              "",
              Importance.MEDIUM,
              HTTP_ADVERTISED_HOST_DOC)
          .define(
              HTTP_FORWARD_TIMEOUT_MS_CONFIG,
              Type.LONG,
              5_000L,
              Range.atLeast(1),
              Importance.LOW,
              HTTP_FORWARD_TIMEOUT_MS_DOC)
          .define(
              REBALANCE_RETRY_AFTER_SECONDS_CONFIG,
              Type.INT,
              1,
              Range.between(1, 3600),
              Importance.LOW,
              REBALANCE_RETRY_AFTER_SECONDS_DOC)
          .define(
              ROUTING_DELEGATE_ASSIGNOR_CLASS_CONFIG,
              Type.STRING,
              "dev.backbone.assignment.RackAwareTaskAssignor",
              Importance.MEDIUM,
              ROUTING_DELEGATE_ASSIGNOR_CLASS_DOC)
          .define(
              HTTP_MAX_SCAN_LIMIT_CONFIG,
              Type.INT,
              1_000,
              Range.between(1, 100_000),
              Importance.LOW,
              HTTP_MAX_SCAN_LIMIT_DOC)
          .define(
              HTTP_MAX_BATCH_KEYS_CONFIG,
              Type.INT,
              1_000,
              Range.between(1, 100_000),
              Importance.LOW,
              HTTP_MAX_BATCH_KEYS_DOC)
          .define(
              HTTP_MAX_KEY_BYTES_CONFIG,
              Type.INT,
              1024,
              Range.between(1, 4096),
              Importance.LOW,
              HTTP_MAX_KEY_BYTES_DOC)
          .define(
              HTTP_MAX_BATCH_EVENTS_CONFIG,
              Type.INT,
              1_000,
              Range.between(1, 100_000),
              Importance.LOW,
              HTTP_MAX_BATCH_EVENTS_DOC)
          .define(
              HTTP_TLS_KEYSTORE_PATH_CONFIG,
              Type.STRING,
              null,
              Importance.MEDIUM,
              HTTP_TLS_KEYSTORE_PATH_DOC)
          .define(
              HTTP_TLS_KEYSTORE_PASSWORD_CONFIG,
              Type.PASSWORD,
              null,
              Importance.MEDIUM,
              HTTP_TLS_KEYSTORE_PASSWORD_DOC)
          .define(
              HTTP_TLS_TRUSTSTORE_PATH_CONFIG,
              Type.STRING,
              null,
              Importance.MEDIUM,
              HTTP_TLS_TRUSTSTORE_PATH_DOC)
          .define(
              HTTP_TLS_TRUSTSTORE_PASSWORD_CONFIG,
              Type.PASSWORD,
              null,
              Importance.LOW,
              HTTP_TLS_TRUSTSTORE_PASSWORD_DOC)
          .define(
              HTTP_MAX_BODY_BYTES_CONFIG,
              Type.INT,
              1024 * 1024,
              Range.between(1024, 256 * 1024 * 1024),
              Importance.LOW,
              HTTP_MAX_BODY_BYTES_DOC)
          .define(
              HTTP_AUTH_TOKEN_CONFIG,
              Type.PASSWORD,
              null,
              (name, value) -> {
                if (value != null && ((Password) value).value().isBlank()) {
                  throw new ConfigException(name, "[hidden]", "must not be blank when set");
                }
              },
              Importance.HIGH,
              HTTP_AUTH_TOKEN_DOC)
          .define(
              CLUSTER_SECRET_CONFIG,
              Type.PASSWORD,
              null,
              (name, value) -> {
                if (value != null && ((Password) value).value().length() < MIN_SECRET_LENGTH) {
                  throw new ConfigException(
                      name, "[hidden]", "must be at least " + MIN_SECRET_LENGTH + " characters");
                }
              },
              Importance.HIGH,
              CLUSTER_SECRET_DOC)
          .define(
              BOOTSTRAP_MAX_SNAPSHOTS_CONFIG,
              Type.INT,
              4,
              Range.between(1, 1000),
              Importance.LOW,
              BOOTSTRAP_MAX_SNAPSHOTS_DOC)
          .define(
              BOOTSTRAP_SNAPSHOT_LEASE_MS_CONFIG,
              Type.LONG,
              600_000L,
              Range.atLeast(1),
              Importance.LOW,
              BOOTSTRAP_SNAPSHOT_LEASE_MS_DOC)
          .define(
              BOOTSTRAP_SNAPSHOT_REUSE_MS_CONFIG,
              Type.LONG,
              10_000L,
              Range.atLeast(0),
              Importance.LOW,
              BOOTSTRAP_SNAPSHOT_REUSE_MS_DOC)
          .define(
              BOOTSTRAP_MIN_LAG_RECORDS_CONFIG,
              Type.LONG,
              500_000L,
              Range.atLeast(0),
              Importance.MEDIUM,
              BOOTSTRAP_MIN_LAG_RECORDS_DOC)
          .define(
              BOOTSTRAP_MAX_SOURCE_LAG_RECORDS_CONFIG,
              Type.LONG,
              100_000L,
              Range.atLeast(0),
              Importance.LOW,
              BOOTSTRAP_MAX_SOURCE_LAG_RECORDS_DOC)
          .define(
              BOOTSTRAP_PARALLELISM_CONFIG,
              Type.INT,
              4,
              Range.between(1, 64),
              Importance.LOW,
              BOOTSTRAP_PARALLELISM_DOC)
          .define(
              BOOTSTRAP_CONCURRENT_CONFIG,
              Type.INT,
              2,
              Range.between(1, 64),
              Importance.LOW,
              BOOTSTRAP_CONCURRENT_DOC)
          .define(
              BOOTSTRAP_THROTTLE_BYTES_PER_SEC_CONFIG,
              Type.LONG,
              0L,
              Range.atLeast(0),
              Importance.MEDIUM,
              BOOTSTRAP_THROTTLE_BYTES_PER_SEC_DOC)
          .define(
              BOOTSTRAP_REQUEST_TIMEOUT_MS_CONFIG,
              Type.LONG,
              30_000L,
              Range.atLeast(1),
              Importance.LOW,
              BOOTSTRAP_REQUEST_TIMEOUT_MS_DOC)
          .define(
              BOOTSTRAP_ESTIMATE_REPLAY_RECORDS_PER_SEC_CONFIG,
              Type.LONG,
              200_000L,
              Range.atLeast(1),
              Importance.LOW,
              BOOTSTRAP_ESTIMATE_REPLAY_RECORDS_PER_SEC_DOC)
          .define(
              BOOTSTRAP_ESTIMATE_COPY_BYTES_PER_SEC_CONFIG,
              Type.LONG,
              100_000_000L,
              Range.atLeast(1),
              Importance.LOW,
              BOOTSTRAP_ESTIMATE_COPY_BYTES_PER_SEC_DOC)
          .define(
              BOOTSTRAP_INIT_WAIT_MS_CONFIG,
              Type.LONG,
              1_000L,
              Range.between(0, 10_000),
              Importance.LOW,
              BOOTSTRAP_INIT_WAIT_MS_DOC)
          .define(
              CHANGELOG_RETENTION_MS_CONFIG,
              Type.LONG,
              -1L,
              (name, value) -> {
                long v = (Long) value;
                if (v != -1 && v < 1) {
                  throw new ConfigException(name, value, "must be -1 (unbounded) or positive");
                }
              },
              Importance.MEDIUM,
              CHANGELOG_RETENTION_MS_DOC)
          .define(
              SNAPSHOT_INTERVAL_MS_CONFIG,
              Type.LONG,
              3_600_000L,
              Range.atLeast(1_000),
              Importance.MEDIUM,
              SNAPSHOT_INTERVAL_MS_DOC)
          .define(
              ARCHIVE_URI_CONFIG,
              Type.STRING,
              "",
              (name, value) -> {
                String v = ((String) value).trim();
                if (!v.isEmpty() && !v.startsWith("file:") && !v.startsWith("s3://")) {
                  throw new ConfigException(name, value, "must start with file: or s3://");
                }
              },
              Importance.MEDIUM,
              ARCHIVE_URI_DOC)
          .define(
              ARCHIVE_KEEP_SNAPSHOTS_CONFIG,
              Type.INT,
              3,
              Range.atLeast(1),
              Importance.LOW,
              ARCHIVE_KEEP_SNAPSHOTS_DOC)
          .define(
              ARCHIVE_PARALLELISM_CONFIG,
              Type.INT,
              4,
              Range.between(1, 64),
              Importance.LOW,
              ARCHIVE_PARALLELISM_DOC)
          .define(
              ARCHIVE_THROTTLE_BYTES_PER_SEC_CONFIG,
              Type.LONG,
              0L,
              Range.atLeast(0),
              Importance.LOW,
              ARCHIVE_THROTTLE_BYTES_PER_SEC_DOC)
          .define(
              ARCHIVE_S3_ENDPOINT_CONFIG, Type.STRING, "", Importance.LOW, ARCHIVE_S3_ENDPOINT_DOC)
          .define(
              ARCHIVE_S3_REGION_CONFIG,
              Type.STRING,
              "us-east-1",
              Importance.LOW,
              ARCHIVE_S3_REGION_DOC)
          .define(
              ARCHIVE_S3_ACCESS_KEY_CONFIG,
              Type.PASSWORD,
              null,
              Importance.LOW,
              ARCHIVE_S3_ACCESS_KEY_DOC)
          .define(
              ARCHIVE_S3_SECRET_KEY_CONFIG,
              Type.PASSWORD,
              null,
              Importance.LOW,
              ARCHIVE_S3_SECRET_KEY_DOC)
          .define(
              ARCHIVE_S3_PATH_STYLE_CONFIG,
              Type.BOOLEAN,
              false,
              Importance.LOW,
              ARCHIVE_S3_PATH_STYLE_DOC);

  /** Settings that earlier versions had, with what to use instead. */
  private static final Map<String, String> REPLACED =
      Map.of(
          "backbone.store.max.uncommitted.bytes",
          "set Kafka Streams' own statestore.uncommitted.max.bytes (Kafka Streams 4.4 commits early"
              + " once the stores' uncommitted bytes pass it; see docs/store.md)");

  private BackboneConfig(Map<String, Object> backboneProps) {
    super(CONFIG, backboneProps, false);
  }

  /**
   * Reads the {@code backbone.*} settings out of a node's properties.
   *
   * @throws FatalBackboneException naming every unknown or invalid setting at once
   */
  public static BackboneConfig of(Map<?, ?> props) {
    Map<String, Object> mine = new java.util.HashMap<>();
    List<String> problems = new ArrayList<>();
    props.forEach(
        (k, v) -> {
          String key = String.valueOf(k);
          if (key.startsWith(PREFIX)) {
            if (CONFIG.names().contains(key)) {
              mine.put(key, v);
            } else if (REPLACED.containsKey(key)) {
              problems.add("'" + key + "' was replaced: " + REPLACED.get(key));
            } else {
              problems.add("unknown setting '" + key + "'");
            }
          }
        });
    if (problems.isEmpty()) {
      try {
        BackboneConfig config = new BackboneConfig(mine);
        problems.addAll(config.retentionProblems());
        if (problems.isEmpty()) {
          return config;
        }
      } catch (ConfigException e) {
        problems.add(e.getMessage());
      }
    }
    throw new FatalBackboneException(
        "BAD_CONFIG",
        "Invalid Backbone configuration: "
            + String.join("; ", problems)
            + ". Known settings: "
            + new java.util.TreeSet<>(CONFIG.names()));
  }

  /** The settings, their types, defaults and docs, e.g. for generated documentation. */
  public static ConfigDef configDef() {
    return new ConfigDef(CONFIG);
  }

  /** {@link #NODE_ID_CONFIG}. */
  public String nodeId() {
    return getString(NODE_ID_CONFIG);
  }

  /** {@link #HTTP_HOST_CONFIG}. */
  public String httpHost() {
    return getString(HTTP_HOST_CONFIG);
  }

  /** {@link #HTTP_PORT_CONFIG}. */
  public int httpPort() {
    return getInt(HTTP_PORT_CONFIG);
  }

  /** {@link #HTTP_ADVERTISED_HOST_CONFIG}, resolved against the bind host. */
  public String httpAdvertisedHost() {
    String advertised = getString(HTTP_ADVERTISED_HOST_CONFIG);
    if (!advertised.isBlank()) {
      return advertised;
    }
    String host = httpHost();
    return host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
  }

  /** {@link #HTTP_FORWARD_TIMEOUT_MS_CONFIG}. */
  public long httpForwardTimeoutMs() {
    return getLong(HTTP_FORWARD_TIMEOUT_MS_CONFIG);
  }

  /** {@link #ROUTING_DELEGATE_ASSIGNOR_CLASS_CONFIG}. */
  public String routingDelegateAssignorClass() {
    return getString(ROUTING_DELEGATE_ASSIGNOR_CLASS_CONFIG);
  }

  /** {@link #HTTP_MAX_SCAN_LIMIT_CONFIG}. */
  public int httpMaxScanLimit() {
    return getInt(HTTP_MAX_SCAN_LIMIT_CONFIG);
  }

  /** {@link #HTTP_MAX_BATCH_KEYS_CONFIG}. */
  public int httpMaxBatchKeys() {
    return getInt(HTTP_MAX_BATCH_KEYS_CONFIG);
  }

  /** {@link #HTTP_MAX_KEY_BYTES_CONFIG}. */
  public int httpMaxKeyBytes() {
    return getInt(HTTP_MAX_KEY_BYTES_CONFIG);
  }

  /** {@link #HTTP_MAX_BATCH_EVENTS_CONFIG}. */
  public int httpMaxBatchEvents() {
    return getInt(HTTP_MAX_BATCH_EVENTS_CONFIG);
  }

  /**
   * The HTTP server's TLS settings, if {@link #HTTP_TLS_KEYSTORE_PATH_CONFIG} is set.
   *
   * @return empty for plain HTTP
   */
  public Optional<HttpTls> httpTls() {
    String keystore = getString(HTTP_TLS_KEYSTORE_PATH_CONFIG);
    if (keystore == null || keystore.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(
        new HttpTls(
            keystore,
            passwordOf(HTTP_TLS_KEYSTORE_PASSWORD_CONFIG),
            Optional.ofNullable(getString(HTTP_TLS_TRUSTSTORE_PATH_CONFIG))
                .filter(s -> !s.isBlank()),
            passwordOf(HTTP_TLS_TRUSTSTORE_PASSWORD_CONFIG)));
  }

  private String passwordOf(String name) {
    Password password = getPassword(name);
    return password == null ? "" : password.value();
  }

  /**
   * TLS of the HTTP server.
   *
   * @param keystorePath the keystore with the server's key and certificate
   * @param keystorePassword its password ("" when none); the store's type (PKCS12, JKS) is read
   *     from the file
   * @param truststorePath what the node trusts when calling peers; empty: the JVM's default
   * @param truststorePassword its password ("" when none)
   */
  public record HttpTls(
      String keystorePath,
      String keystorePassword,
      Optional<String> truststorePath,
      String truststorePassword) {
    @Override
    public String toString() {
      return "HttpTls[keystore=" + keystorePath + ", truststore=" + truststorePath + "]";
    }
  }

  /** {@link #HTTP_MAX_BODY_BYTES_CONFIG}. */
  public int httpMaxBodyBytes() {
    return getInt(HTTP_MAX_BODY_BYTES_CONFIG);
  }

  /** {@link #HTTP_AUTH_TOKEN_CONFIG}, if set. */
  public Optional<String> httpAuthToken() {
    Password token = getPassword(HTTP_AUTH_TOKEN_CONFIG);
    return token == null ? Optional.empty() : Optional.of(token.value());
  }

  /** {@link #CLUSTER_SECRET_CONFIG}, if set. */
  public Optional<String> clusterSecret() {
    Password secret = getPassword(CLUSTER_SECRET_CONFIG);
    return secret == null ? Optional.empty() : Optional.of(secret.value());
  }

  /** {@link #BOOTSTRAP_MAX_SNAPSHOTS_CONFIG}. */
  public int bootstrapMaxSnapshots() {
    return getInt(BOOTSTRAP_MAX_SNAPSHOTS_CONFIG);
  }

  /** {@link #BOOTSTRAP_SNAPSHOT_LEASE_MS_CONFIG}. */
  public Duration bootstrapSnapshotLease() {
    return Duration.ofMillis(getLong(BOOTSTRAP_SNAPSHOT_LEASE_MS_CONFIG));
  }

  /** {@link #BOOTSTRAP_SNAPSHOT_REUSE_MS_CONFIG}. */
  public Duration bootstrapSnapshotReuse() {
    return Duration.ofMillis(getLong(BOOTSTRAP_SNAPSHOT_REUSE_MS_CONFIG));
  }

  /** {@link #BOOTSTRAP_MIN_LAG_RECORDS_CONFIG}. */
  public long bootstrapMinLagRecords() {
    return getLong(BOOTSTRAP_MIN_LAG_RECORDS_CONFIG);
  }

  /** {@link #BOOTSTRAP_MAX_SOURCE_LAG_RECORDS_CONFIG}. */
  public long bootstrapMaxSourceLagRecords() {
    return getLong(BOOTSTRAP_MAX_SOURCE_LAG_RECORDS_CONFIG);
  }

  /** {@link #BOOTSTRAP_PARALLELISM_CONFIG}. */
  public int bootstrapParallelism() {
    return getInt(BOOTSTRAP_PARALLELISM_CONFIG);
  }

  /** {@link #BOOTSTRAP_CONCURRENT_CONFIG}. */
  public int bootstrapConcurrentStores() {
    return getInt(BOOTSTRAP_CONCURRENT_CONFIG);
  }

  /** {@link #BOOTSTRAP_THROTTLE_BYTES_PER_SEC_CONFIG}. */
  public long bootstrapThrottleBytesPerSecond() {
    return getLong(BOOTSTRAP_THROTTLE_BYTES_PER_SEC_CONFIG);
  }

  /**
   * {@link #BOOTSTRAP_ESTIMATE_REPLAY_RECORDS_PER_SEC_CONFIG} and {@link
   * #BOOTSTRAP_ESTIMATE_COPY_BYTES_PER_SEC_CONFIG}, with the throttle applied.
   */
  public CopyOrReplay bootstrapEstimate() {
    return new CopyOrReplay(
            getLong(BOOTSTRAP_ESTIMATE_REPLAY_RECORDS_PER_SEC_CONFIG),
            getLong(BOOTSTRAP_ESTIMATE_COPY_BYTES_PER_SEC_CONFIG))
        .throttled(bootstrapThrottleBytesPerSecond());
  }

  /** {@link #BOOTSTRAP_INIT_WAIT_MS_CONFIG}. */
  public Duration bootstrapInitWait() {
    return Duration.ofMillis(getLong(BOOTSTRAP_INIT_WAIT_MS_CONFIG));
  }

  /** {@link #BOOTSTRAP_REQUEST_TIMEOUT_MS_CONFIG}. */
  public Duration bootstrapRequestTimeout() {
    return Duration.ofMillis(getLong(BOOTSTRAP_REQUEST_TIMEOUT_MS_CONFIG));
  }

  /** {@link #REBALANCE_RETRY_AFTER_SECONDS_CONFIG}. */
  public int retryAfterSeconds() {
    return getInt(REBALANCE_RETRY_AFTER_SECONDS_CONFIG);
  }

  /**
   * What makes a bounded changelog unsafe: no archive (a task whose every replica is lost could not
   * be rebuilt), or a retention shorter than {@value #RETENTION_SNAPSHOT_INTERVALS} snapshot
   * intervals (the newest archived snapshot must always sit well inside the retained records).
   */
  private List<String> retentionProblems() {
    List<String> problems = new ArrayList<>();
    archiveSettings()
        .ifPresent(a -> a.problems().forEach(p -> problems.add(ARCHIVE_URI_CONFIG + ": " + p)));
    long retention = getLong(CHANGELOG_RETENTION_MS_CONFIG);
    if (retention > 0) {
      if (archiveUri().isEmpty()) {
        problems.add(
            CHANGELOG_RETENTION_MS_CONFIG
                + "="
                + retention
                + " bounds the changelogs, which is safe only with a snapshot archive: set "
                + ARCHIVE_URI_CONFIG);
      }
      long interval = getLong(SNAPSHOT_INTERVAL_MS_CONFIG);
      if (retention < RETENTION_SNAPSHOT_INTERVALS * interval) {
        problems.add(
            CHANGELOG_RETENTION_MS_CONFIG
                + "="
                + retention
                + " is shorter than "
                + RETENTION_SNAPSHOT_INTERVALS
                + " x "
                + SNAPSHOT_INTERVAL_MS_CONFIG
                + "="
                + interval
                + ": the changelog could lose records no archived snapshot holds yet; raise the"
                + " retention to at least "
                + RETENTION_SNAPSHOT_INTERVALS * interval
                + " or snapshot more often");
      }
    }
    return problems;
  }

  /** {@link #CHANGELOG_RETENTION_MS_CONFIG}: empty when changelogs are kept forever. */
  public Optional<Duration> changelogRetention() {
    long retention = getLong(CHANGELOG_RETENTION_MS_CONFIG);
    return retention > 0 ? Optional.of(Duration.ofMillis(retention)) : Optional.empty();
  }

  /** {@link #SNAPSHOT_INTERVAL_MS_CONFIG}. */
  public Duration snapshotInterval() {
    return Duration.ofMillis(getLong(SNAPSHOT_INTERVAL_MS_CONFIG));
  }

  /** {@link #ARCHIVE_URI_CONFIG}, empty when no archive is configured. */
  public Optional<String> archiveUri() {
    String uri = getString(ARCHIVE_URI_CONFIG).trim();
    return uri.isEmpty() ? Optional.empty() : Optional.of(uri);
  }

  /** {@link #ARCHIVE_KEEP_SNAPSHOTS_CONFIG}. */
  public int archiveKeepSnapshots() {
    return getInt(ARCHIVE_KEEP_SNAPSHOTS_CONFIG);
  }

  /** {@link #ARCHIVE_PARALLELISM_CONFIG}. */
  public int archiveParallelism() {
    return getInt(ARCHIVE_PARALLELISM_CONFIG);
  }

  /** {@link #ARCHIVE_THROTTLE_BYTES_PER_SEC_CONFIG}. */
  public long archiveThrottleBytesPerSecond() {
    return getLong(ARCHIVE_THROTTLE_BYTES_PER_SEC_CONFIG);
  }

  /** {@link #ARCHIVE_S3_ENDPOINT_CONFIG}, empty for AWS itself. */
  public Optional<String> archiveS3Endpoint() {
    String endpoint = getString(ARCHIVE_S3_ENDPOINT_CONFIG).trim();
    return endpoint.isEmpty() ? Optional.empty() : Optional.of(endpoint);
  }

  /** {@link #ARCHIVE_S3_REGION_CONFIG}. */
  public String archiveS3Region() {
    return getString(ARCHIVE_S3_REGION_CONFIG);
  }

  /** {@link #ARCHIVE_S3_ACCESS_KEY_CONFIG}, empty for the SDK's default credentials. */
  public Optional<String> archiveS3AccessKey() {
    Password key = getPassword(ARCHIVE_S3_ACCESS_KEY_CONFIG);
    return key == null ? Optional.empty() : Optional.of(key.value());
  }

  /** {@link #ARCHIVE_S3_SECRET_KEY_CONFIG}. */
  public Optional<String> archiveS3SecretKey() {
    Password key = getPassword(ARCHIVE_S3_SECRET_KEY_CONFIG);
    return key == null ? Optional.empty() : Optional.of(key.value());
  }

  /** {@link #ARCHIVE_S3_PATH_STYLE_CONFIG}. */
  public boolean archiveS3PathStyle() {
    return getBoolean(ARCHIVE_S3_PATH_STYLE_CONFIG);
  }

  /** The archive's settings, empty when {@link #ARCHIVE_URI_CONFIG} is not set. */
  public Optional<ArchiveSettings> archiveSettings() {
    return archiveUri()
        .map(
            uri -> {
              ArchiveSettings settings =
                  ArchiveSettings.of(uri)
                      .withTransfers(
                          archiveParallelism(),
                          ArchiveSettings.DEFAULT_PART_BYTES,
                          ArchiveSettings.DEFAULT_PART_BYTES,
                          archiveThrottleBytesPerSecond());
              return settings.isS3()
                  ? settings.withS3(
                      archiveS3Endpoint().orElse(null),
                      archiveS3Region(),
                      archiveS3AccessKey().orElse(null),
                      archiveS3SecretKey().orElse(null),
                      archiveS3PathStyle())
                  : settings;
            });
  }
}
