package dev.backbone.cli;

import dev.backbone.examples.profiles.CustomerProfilePipeline;
import dev.backbone.examples.profiles.PipelineSettings;
import dev.backbone.server.BackboneNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * A profile node as a child JVM, for crash tests: {@code <bootstrap> <appId> <stateDir>
 * <guarantee>}. Writes its HTTP port to {@code <stateDir>/port} once started; SIGTERM closes it
 * cleanly, SIGKILL is the crash under test.
 */
public final class ProfileNodeChild {
  private ProfileNodeChild() {}

  public static void main(String[] args) throws Exception {
    String appId = args[1];
    Path stateDir = Path.of(args[2]);
    CustomerProfilePipeline pipeline =
        new CustomerProfilePipeline(
            new PipelineSettings(appId, appId + "-events", appId + "-dlq", 2, (short) 1, args[3]));
    BackboneNode node =
        ProfileNodes.build(
            pipeline,
            new ProfileNodes.NodeSpec(
                "child", "rack-a", args[0], "127.0.0.1", 0, stateDir.resolve("state"), 0, 1));
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
