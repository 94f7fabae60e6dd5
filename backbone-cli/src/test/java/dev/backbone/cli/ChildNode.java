package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A profile node in a child JVM ({@link ProfileNodeChild}), so a test can kill it with SIGKILL: no
 * shutdown hook, no clean leave from the group, transactions left open.
 */
final class ChildNode {
  private final Process process;
  private final int port;

  private ChildNode(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /**
   * Starts the child with {@link ProfileNodeChild}'s arguments, its output in {@code
   * <stateDir>/<logName>.log}, and waits until it serves HTTP.
   */
  static ChildNode start(Path stateDir, String logName, String... args) throws IOException {
    Files.createDirectories(stateDir);
    Path portFile = stateDir.resolve("port");
    Files.deleteIfExists(portFile);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx512m");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(ProfileNodeChild.class.getName());
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(stateDir.resolve(logName + ".log").toFile())
            .start();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> Files.exists(portFile) || !process.isAlive());
    if (!process.isAlive()) {
      List<String> log = Files.readAllLines(stateDir.resolve(logName + ".log"));
      throw new AssertionError(
          "child "
              + logName
              + " exited with "
              + process.exitValue()
              + " before serving; the end of "
              + logName
              + ".log:\n"
              + String.join("\n", log.subList(Math.max(0, log.size() - 30), log.size())));
    }
    return new ChildNode(process, Integer.parseInt(Files.readString(portFile).trim()));
  }

  Process process() {
    return process;
  }

  int port() {
    return port;
  }

  /** SIGKILL, and waits until the process is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("killed child exits").isTrue();
  }

  /** For {@code @AfterEach}: kills the child if it still runs. */
  void killIfAlive() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
