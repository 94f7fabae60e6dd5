package dev.backbone.cli;

import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.BackboneNode;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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
    String id = nodeId != null ? nodeId : "node-" + httpPort;
    try (UntilStopped signal = new UntilStopped("node");
        BackboneNode node =
            ProfileNodes.build(
                pipeline,
                new ProfileNodes.NodeSpec(
                    id, rack, bootstrapServers, httpHost, httpPort, stateDir, standbys, threads))) {
      node.start();
      System.out.printf(
          "%s up: rack=%s http://%s:%d/v1/stores  (Ctrl-C to stop)%n",
          id, rack == null ? "-" : rack, httpHost, node.httpPort());
      signal.await();
    }
    return 0;
  }
}
