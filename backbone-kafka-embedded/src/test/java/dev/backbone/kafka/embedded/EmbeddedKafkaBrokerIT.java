package dev.backbone.kafka.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.backbone.errors.FatalBackboneException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaBrokerIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dataDir;

  @Test
  void keepsClusterTopicsAndCommittedRecordsAcrossARestartOnTheSameDataDir() throws Exception {
    String topic = "orders";
    String firstClusterId;
    int firstControllerPort;
    try (EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder()
            .dataDir(dataDir)
            .rack("rack-x")
            .property("num.partitions", "3")
            .build()) {
      broker.start();
      assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + broker.port());
      firstClusterId = broker.clusterId();
      firstControllerPort = broker.controllerPort();
      try (Admin admin = admin(broker)) {
        assertThat(admin.describeCluster().nodes().get())
            .extracting(Node::rack)
            .containsExactly("rack-x");
        // No partition count given: the broker default, overridden through property(), applies.
        admin.createTopics(List.of(new NewTopic(topic, Optional.empty(), Optional.empty())));
        await().atMost(WAIT).until(() -> admin.listTopics().names().get().contains(topic));
        assertThat(partitionCount(admin, topic)).isEqualTo(3);
      }
      // A transactional write needs __transaction_state, which only exists if its replication
      // factor fits one broker.
      produceTransactionally(broker, topic, "c-42", "first");
      assertThat(readAll(broker, topic)).containsExactly("c-42=first");
    }

    int fixedPort = LocalPorts.pickFree(1).get(0);
    try (EmbeddedKafkaBroker restarted =
        EmbeddedKafkaBroker.builder().dataDir(dataDir).port(fixedPort).build()) {
      restarted.start();
      assertThat(restarted.bootstrapServers()).isEqualTo("127.0.0.1:" + fixedPort);
      assertThat(restarted.clusterId()).isEqualTo(firstClusterId);
      assertThat(restarted.controllerPort()).isNotEqualTo(firstControllerPort);
      try (Admin admin = admin(restarted)) {
        assertThat(admin.listTopics().names().get()).contains(topic);
        assertThat(partitionCount(admin, topic)).isEqualTo(3);
      }
      assertThat(readAll(restarted, topic)).containsExactly("c-42=first");
    }
  }

  @Test
  void refusesAPortInUseNamingThePortAndTheDataDir() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        EmbeddedKafkaBroker broker =
            EmbeddedKafkaBroker.builder().dataDir(dataDir).port(taken.getLocalPort()).build()) {
      assertStartFails(broker, "KAFKA_PORT_IN_USE")
          .hasMessageContaining("127.0.0.1:" + taken.getLocalPort())
          .hasMessageContaining(dataDir.toString());
    }
  }

  @Test
  void refusesADataDirThatIsAFile() throws IOException {
    Path file = Files.writeString(dataDir.resolve("not-a-dir"), "hello");
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(file).build()) {
      assertStartFails(broker, "KAFKA_DATA_DIR_UNUSABLE").hasMessageContaining(file.toString());
    }
  }

  @Test
  void refusesALogDirWithForeignContentInsteadOfFormattingOverIt() throws IOException {
    Path logDir = Files.createDirectories(dataDir.resolve(KRaftStorage.LOG_DIR_NAME));
    Files.writeString(logDir.resolve("precious.txt"), "not Kafka's");
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(dataDir).build()) {
      assertStartFails(broker, "KAFKA_DATA_DIR_UNUSABLE")
          .hasMessageContaining(logDir.toString())
          .hasMessageContaining("precious.txt");
    }
    assertThat(logDir.resolve("precious.txt")).hasContent("not Kafka's");
  }

  @Test
  void refusesALogDirFormattedForAnotherNode() throws IOException {
    Path logDir = Files.createDirectories(dataDir.resolve(KRaftStorage.LOG_DIR_NAME));
    Files.writeString(
        logDir.resolve("meta.properties"),
        "version=1\ncluster.id=" + UUID.randomUUID() + "\nnode.id=7\n");
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(dataDir).build()) {
      assertStartFails(broker, "KAFKA_DATA_DIR_UNUSABLE")
          .hasMessageContaining(logDir.toString())
          .hasMessageContaining("another Kafka node");
    }
  }

  @Test
  void closeIsIdempotentAndEndsTheBroker() {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(dataDir).build();
    broker.start();
    broker.start(); // already running: no second server
    String bootstrap = broker.bootstrapServers();
    broker.close();
    broker.close();
    assertThatThrownBy(broker::bootstrapServers)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(broker::start).isInstanceOf(IllegalStateException.class);
    int port = Integer.parseInt(bootstrap.substring(bootstrap.indexOf(':') + 1));
    assertThat(LocalPorts.isFree(port)).as("client port released").isTrue();
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertStartFails(
      EmbeddedKafkaBroker broker, String code) {
    return assertThatThrownBy(broker::start)
        .isInstanceOfSatisfying(
            FatalBackboneException.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  private static Admin admin(EmbeddedKafkaBroker broker) {
    return Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
  }

  private static int partitionCount(Admin admin, String topic) throws Exception {
    TopicDescription description =
        admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
    return description.partitions().size();
  }

  private static void produceTransactionally(
      EmbeddedKafkaBroker broker, String topic, String key, String value) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "embedded-it-" + UUID.randomUUID());
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, key, value));
      producer.commitTransaction();
    }
  }

  /** Every committed record of the topic as "key=value", read from the beginning. */
  private static List<String> readAll(EmbeddedKafkaBroker broker, String topic) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      List<String> records = new ArrayList<>();
      await()
          .atMost(WAIT)
          .pollInSameThread()
          .until(
              () -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                  records.add(r.key() + "=" + r.value());
                }
                return partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
              });
      return records;
    }
  }
}
