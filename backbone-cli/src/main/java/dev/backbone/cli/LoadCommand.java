package dev.backbone.cli;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.examples.load.LoadGenerator;
import dev.backbone.examples.load.LoadReport;
import dev.backbone.examples.load.LoadSpec;
import dev.backbone.topics.WritableTopics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code backbone load}: the load generator against any Kafka cluster. */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    description = {
      "Produces customer events (JSON, key = customer id) at a steady rate. Customer ids are",
      "c-0 .. c-(N-1), drawn with Zipf skew; --bad-ratio adds malformed events; the same --seed",
      "gives the same events. Starts once every partition of the topic accepts writes; stops",
      "with status 1 at the first event Kafka does not acknowledge, naming how many were lost."
    })
final class LoadCommand implements Callable<Integer> {
  @Spec private picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(
      names = "--topic",
      defaultValue = "customer-events",
      description = "Topic to write to (default ${DEFAULT-VALUE}).")
  String topic;

  @Option(
      names = "--rate",
      defaultValue = "1000",
      description = "Events per second; 0 = as fast as possible (default ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--customers",
      defaultValue = "100000",
      description = "Distinct customers (default ${DEFAULT-VALUE}).")
  int customers;

  @Option(
      names = "--skew",
      defaultValue = "0.8",
      description = "Zipf exponent of customer popularity; 0 = uniform (default ${DEFAULT-VALUE}).")
  double skew;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Amount amount;

  static final class Amount {
    @Option(names = "--events", description = "Total events to send.")
    Long events;

    @Option(
        names = "--duration",
        converter = DurationConverter.class,
        description = "How long to send (e.g. 30s, 5m).")
    Duration duration;
  }

  @Option(names = "--seed", description = "Seed for a repeatable event sequence (default: random).")
  Long seed;

  @Option(
      names = "--bad-ratio",
      defaultValue = "0",
      description = "Share of malformed events, 0..1 (default ${DEFAULT-VALUE}).")
  double badRatio;

  @Option(
      names = "--create-topic",
      description = "Create the topic if it does not exist (an existing one is kept as it is).")
  boolean createTopic;

  @Option(
      names = "--partitions",
      description = "Partitions of a topic made by --create-topic (default: the brokers' default).")
  Integer partitions;

  @Override
  public Integer call() {
    LoadSpec loadSpec =
        new LoadSpec(
            topic,
            rate,
            customers,
            skew,
            amount.events != null ? amount.events : -1,
            amount.duration,
            seed != null ? seed : System.nanoTime(),
            badRatio);
    List<String> problems = new ArrayList<>(loadSpec.problems());
    if (partitions != null && !createTopic) {
      problems.add("--partitions applies only with --create-topic");
    }
    if (partitions != null && partitions < 1) {
      problems.add("--partitions must be at least 1, got " + partitions);
    }
    if (!problems.isEmpty()) {
      throw new ParameterException(spec.commandLine(), String.join("; ", problems));
    }
    awaitWritableTopic();
    Map<String, Object> props =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers,
            ProducerConfig.LINGER_MS_CONFIG,
            5,
            ProducerConfig.ACKS_CONFIG,
            "all");
    LoadGenerator generator = new LoadGenerator();
    Runtime.getRuntime().addShutdownHook(new Thread(generator::stop, "load-stop"));
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      LoadReport report = generator.run(loadSpec, producer, p -> {});
      spec.commandLine()
          .getOut()
          .printf(
              "sent %d events (%d malformed) to %s, all acknowledged, in %.1fs: %.0f events/s%n",
              report.sent(),
              report.bad(),
              topic,
              report.elapsed().toMillis() / 1000.0,
              report.eventsPerSecond());
    }
    return 0;
  }

  /**
   * Creates the topic if asked, and waits until every partition accepts writes: a producer that
   * starts earlier can lose events (see {@link WritableTopics}). A missing topic fails at once; a
   * producer would wait for its metadata forever.
   */
  private void awaitWritableTopic() {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      WritableTopics topics = new WritableTopics(admin);
      if (createTopic) {
        topics.create(
            List.of(new NewTopic(topic, Optional.ofNullable(partitions), Optional.empty())));
        return;
      }
      try {
        topics.awaitWritable(topic);
      } catch (FatalBackboneException e) {
        if (!e.code().equals(WritableTopics.TOPIC_NOT_FOUND)) {
          throw e;
        }
        throw new FatalBackboneException(
            e.code(),
            "topic "
                + topic
                + " does not exist on the Kafka cluster at "
                + bootstrapServers
                + "; create it with --create-topic --partitions N, or start a node (backbone"
                + " node), which creates the pipeline's topics",
            e);
      }
    }
  }
}
