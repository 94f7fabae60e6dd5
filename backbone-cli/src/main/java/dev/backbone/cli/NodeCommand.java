package dev.backbone.cli;

import dev.backbone.config.BackboneConfig;
import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.BackboneNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code backbone node}: one node of the customer-profile application against any Kafka cluster.
 */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = {
      "Runs one Backbone node of the customer-profile application against a Kafka cluster.",
      "Start one per machine (or several per machine on different ports and state dirs); nodes",
      "with the same --app-id form one application. Stops cleanly on SIGTERM / Ctrl-C."
    })
final class NodeCommand implements Callable<Integer> {
  @Mixin PipelineOptions pipelineOptions;

  @Option(
      names = "--bootstrap-servers",
      required = true,
      description = "Kafka bootstrap servers, host:port[,host:port...].")
  String bootstrapServers;

  @Option(names = "--rack", description = "This node's rack or availability zone (client.rack).")
  String rack;

  @Option(
      names = "--http-port",
      defaultValue = "7070",
      description = "HTTP port (default ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(
      names = "--http-host",
      defaultValue = "0.0.0.0",
      description = "Address the HTTP server binds to (default ${DEFAULT-VALUE}).")
  String httpHost;

  @Option(
      names = "--state-dir",
      required = true,
      description = "Directory for this node's local state.")
  Path stateDir;

  @Option(
      names = "--app-id",
      defaultValue = "customer-profiles",
      description = "Application id shared by all nodes (default ${DEFAULT-VALUE}).")
  String appId;

  @Option(names = "--node-id", description = "Unique node id (default: node-<http-port>).")
  String nodeId;

  @Option(
      names = "--replication-factor",
      defaultValue = "1",
      description = "Replication factor of topics this node creates (default ${DEFAULT-VALUE}).")
  short replicationFactor;

  @Option(
      names = "--standbys",
      defaultValue = "1",
      description = "Standby replicas per stateful task (default ${DEFAULT-VALUE}).")
  int standbys;

  @Option(
      names = "--threads",
      defaultValue = "1",
      description = "Stream threads per stage (default ${DEFAULT-VALUE}).")
  int threads;

  @Spec CommandSpec spec;

  @Option(
      names = "--auth-token",
      defaultValue = "${env:BACKBONE_AUTH_TOKEN}",
      description =
          "Require 'Authorization: Bearer <token>' on every HTTP call but /health (default:"
              + " $BACKBONE_AUTH_TOKEN; none: no auth).")
  String authToken;

  @Option(
      names = "--cluster-secret",
      defaultValue = "${env:BACKBONE_CLUSTER_SECRET}",
      description =
          "Shared secret of the nodes' internal calls (snapshot transfer), 16+ characters"
              + " (default: $BACKBONE_CLUSTER_SECRET; none: this node lends no snapshots).")
  String clusterSecret;

  @Option(
      names = "--tls-keystore",
      paramLabel = "FILE",
      description =
          "Serve HTTPS only, with the key and certificate of this PKCS12 or JKS keystore (every"
              + " node of a cluster does, or none).")
  Path tlsKeystore;

  @Option(
      names = "--tls-keystore-password",
      defaultValue = "${env:BACKBONE_TLS_KEYSTORE_PASSWORD}",
      description = "Password of the keystore (default: $BACKBONE_TLS_KEYSTORE_PASSWORD).")
  String tlsKeystorePassword;

  @Option(
      names = "--tls-truststore",
      paramLabel = "FILE",
      description =
          "Certificates trusted when calling peers over HTTPS (default: the JVM's trust store).")
  Path tlsTruststore;

  @Option(
      names = "--tls-truststore-password",
      defaultValue = "${env:BACKBONE_TLS_TRUSTSTORE_PASSWORD}",
      description = "Password of the trust store (default: $BACKBONE_TLS_TRUSTSTORE_PASSWORD).")
  String tlsTruststorePassword;

  @Option(
      names = "--archive",
      paramLabel = "URI",
      description =
          "Archive snapshots of this node's active stores to file:///dir or s3://bucket/prefix"
              + " (backbone.archive.uri; S3 credentials from the AWS SDK's default chain, e.g."
              + " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).")
  String archive;

  @Option(
      names = "--archive-s3-endpoint",
      paramLabel = "URL",
      description = "Endpoint of an S3-compatible archive (backbone.archive.s3.endpoint).")
  String archiveS3Endpoint;

  @Option(
      names = "--archive-s3-path-style",
      description = "Path-style S3 addressing, which most S3-compatible stores need.")
  boolean archiveS3PathStyle;

  @Option(
      names = "--snapshot-interval",
      converter = DurationConverter.class,
      description = "How often active stores are archived (backbone.snapshot.interval.ms).")
  Duration snapshotInterval;

  @Option(
      names = "--changelog-retention",
      converter = DurationConverter.class,
      description =
          "Bound the changelogs to this retention (backbone.changelog.retention.ms); needs"
              + " --archive and at least 3 snapshot intervals.")
  Duration changelogRetention;

  @Override
  public Integer call() throws Exception {
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(
            new PipelineSettings(
                appId,
                "customer-events",
                "customer-events-dlq",
                pipelineOptions.partitions,
                replicationFactor,
                pipelineOptions.guarantee,
                pipelineOptions.store));
    Properties adminProps = new Properties();
    adminProps.put("bootstrap.servers", bootstrapServers);
    try (Admin admin = Admin.create(adminProps)) {
      pipeline.createTopics(admin);
    }
    if (tlsKeystore == null && tlsTruststore != null) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--tls-truststore needs --tls-keystore (HTTPS is served or not)");
    }
    String id = nodeId != null ? nodeId : "node-" + httpPort;
    try (UntilStopped signal = new UntilStopped("node");
        BackboneNode node =
            ProfileNodes.build(
                pipeline,
                new ProfileNodes.NodeSpec(
                    id, rack, bootstrapServers, httpHost, httpPort, stateDir, standbys, threads),
                securityProperties())) {
      node.start();
      System.out.printf(
          "%s up: rack=%s %s://%s:%d/v1/stores  (Ctrl-C to stop)%n",
          id,
          rack == null ? "-" : rack,
          tlsKeystore == null ? "http" : "https",
          httpHost,
          node.httpPort());
      signal.await();
    }
    return 0;
  }

  private Properties securityProperties() {
    Properties props = new Properties();
    if (authToken != null && !authToken.isBlank()) {
      props.put(BackboneConfig.HTTP_AUTH_TOKEN_CONFIG, authToken);
    }
    if (clusterSecret != null && !clusterSecret.isBlank()) {
      props.put(BackboneConfig.CLUSTER_SECRET_CONFIG, clusterSecret);
    }
    if (tlsKeystore != null) {
      props.put(BackboneConfig.HTTP_TLS_KEYSTORE_PATH_CONFIG, tlsKeystore.toString());
      props.put(
          BackboneConfig.HTTP_TLS_KEYSTORE_PASSWORD_CONFIG,
          tlsKeystorePassword == null ? "" : tlsKeystorePassword);
    }
    if (tlsTruststore != null) {
      props.put(BackboneConfig.HTTP_TLS_TRUSTSTORE_PATH_CONFIG, tlsTruststore.toString());
      props.put(
          BackboneConfig.HTTP_TLS_TRUSTSTORE_PASSWORD_CONFIG,
          tlsTruststorePassword == null ? "" : tlsTruststorePassword);
    }
    if (archive != null) {
      props.put(BackboneConfig.ARCHIVE_URI_CONFIG, archive);
    }
    if (archiveS3Endpoint != null) {
      props.put(BackboneConfig.ARCHIVE_S3_ENDPOINT_CONFIG, archiveS3Endpoint);
    }
    if (archiveS3PathStyle) {
      props.put(BackboneConfig.ARCHIVE_S3_PATH_STYLE_CONFIG, "true");
    }
    if (snapshotInterval != null) {
      props.put(
          BackboneConfig.SNAPSHOT_INTERVAL_MS_CONFIG, Long.toString(snapshotInterval.toMillis()));
    }
    if (changelogRetention != null) {
      props.put(
          BackboneConfig.CHANGELOG_RETENTION_MS_CONFIG,
          Long.toString(changelogRetention.toMillis()));
    }
    return props;
  }
}
