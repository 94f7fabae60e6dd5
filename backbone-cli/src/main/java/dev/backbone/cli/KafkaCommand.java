package dev.backbone.cli;

import dev.backbone.kafka.embedded.EmbeddedKafkaBroker;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code backbone kafka}: the embedded single-node KRaft broker as its own process. */
@Command(
    name = "kafka",
    mixinStandardHelpOptions = true,
    description = {
      "Runs an embedded single-node KRaft Kafka broker on 127.0.0.1, with its data under",
      "--data-dir (a restart keeps topics and data). For starting a multi-process cluster by hand."
    })
final class KafkaCommand implements Callable<Integer> {
  @Option(names = "--data-dir", required = true, description = "Broker data directory.")
  Path dataDir;

  @Option(
      names = "--port",
      defaultValue = "9092",
      description = "PLAINTEXT listener port (default ${DEFAULT-VALUE}).")
  int port;

  @Override
  public Integer call() throws Exception {
    try (UntilStopped signal = new UntilStopped("kafka");
        EmbeddedKafkaBroker broker =
            EmbeddedKafkaBroker.builder().dataDir(dataDir).port(port).build()) {
      broker.start();
      System.out.println("kafka up: " + broker.bootstrapServers() + "  (Ctrl-C to stop)");
      signal.await();
    }
    return 0;
  }
}
