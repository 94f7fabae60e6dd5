package dev.backbone.cli;

import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.BackboneNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * A profile node as a child JVM, for crash tests: {@code <bootstrap> <appId> <stateDir> <guarantee>
 * [<nodeId> <rack> <partitions> <standbys> <sessionTimeoutMs> [key=value ...]]} (defaults: {@code
 * child rack-a 2 0} and Kafka's session timeout; a session timeout of 0 keeps Kafka's; each {@code
 * key=value} is one more node setting). Writes its HTTP port to {@code <stateDir>/port} once
 * started; SIGTERM closes it cleanly, SIGKILL is the crash under test.
 */
public final class ProfileNodeChild {
  private ProfileNodeChild() {}

  public static void main(String[] args) throws Exception {
    String appId = args[1];
    Path stateDir = Path.of(args[2]);
    String nodeId = args.length > 4 ? args[4] : "child";
    String rack = args.length > 5 ? args[5] : "rack-a";
    int partitions = args.length > 6 ? Integer.parseInt(args[6]) : 2;
    int standbys = args.length > 7 ? Integer.parseInt(args[7]) : 0;
    Properties extra = new Properties();
    if (args.length > 8 && Integer.parseInt(args[8]) > 0) {
      extra.put("session.timeout.ms", args[8]);
      extra.put("heartbeat.interval.ms", Integer.toString(Integer.parseInt(args[8]) / 4));
    }
    for (int i = 9; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      extra.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(
            new PipelineSettings(
                appId, appId + "-events", appId + "-dlq", partitions, (short) 1, args[3]));
    BackboneNode node =
        ProfileNodes.build(
            pipeline,
            new ProfileNodes.NodeSpec(
                nodeId, rack, args[0], "127.0.0.1", 0, stateDir.resolve("state"), standbys, 1),
            extra);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  node.close();
                  stopped.countDown();
                }));
    node.start();
    Path port = stateDir.resolve("port");
    Files.writeString(stateDir.resolve("port.tmp"), Integer.toString(node.httpPort()));
    Files.move(stateDir.resolve("port.tmp"), port, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    stopped.await();
  }
}
