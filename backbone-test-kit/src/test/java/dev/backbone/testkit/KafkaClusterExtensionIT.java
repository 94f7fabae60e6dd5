package dev.backbone.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

@BackboneKafkaCluster
class KafkaClusterExtensionIT {
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

  private static TestKafkaCluster fromBeforeAll;
  private final TestKafkaCluster fromConstructor;
  private TestKafkaCluster fromBeforeEach;

  KafkaClusterExtensionIT(TestKafkaCluster kafka) {
    this.fromConstructor = kafka;
  }

  @BeforeAll
  static void rememberCluster(TestKafkaCluster kafka) {
    fromBeforeAll = kafka;
  }

  @BeforeEach
  void rememberClusterAgain(TestKafkaCluster kafka) {
    fromBeforeEach = kafka;
  }

  @Test
  void injectsOneRunningClusterIntoConstructorLifecycleMethodsAndTests(TestKafkaCluster kafka)
      throws Exception {
    assertThat(kafka).isSameAs(fromConstructor).isSameAs(fromBeforeAll).isSameAs(fromBeforeEach);
    assertThat(kafka.admin().describeCluster().nodes().get()).hasSize(1);
    assertThat(kafka.clientProperties())
        .containsEntry("bootstrap.servers", kafka.bootstrapServers());
  }

  @Test
  void testClassesAskingForTheSameShapeShareOneClusterWhichStopsWhenTheRunEnds() throws Exception {
    ClusterProbe.SEEN.clear();
    // A run of its own has its own root context, so this checks sharing and shutdown without
    // depending on which other classes this JVM happens to run.
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    LauncherFactory.create()
        .execute(
            LauncherDiscoveryRequestBuilder.request()
                .selectors(
                    selectClass(AnnotatedProbe.class),
                    selectClass(SameShapeProbe.class),
                    selectClass(PlainExtensionProbe.class))
                .build(),
            listener);

    TestExecutionSummary summary = listener.getSummary();
    assertThat(summary.getTotalFailureCount()).as(failures(summary)).isZero();
    assertThat(summary.getTestsSucceededCount()).isEqualTo(3);
    assertThat(ClusterProbe.SEEN).hasSize(3);
    TestKafkaCluster shared = ClusterProbe.SEEN.get(0);
    assertThat(ClusterProbe.SEEN).allSatisfy(seen -> assertThat(seen).isSameAs(shared));
    assertThat(shared.bootstrapServers()).isNotEqualTo(fromBeforeAll.bootstrapServers());
    assertThat(acceptsConnections(shared.bootstrapServers()))
        .as("the run's cluster at %s is stopped once the run ends", shared.bootstrapServers())
        .isFalse();
    assertThat(acceptsConnections(fromBeforeAll.bootstrapServers()))
        .as("this run's own cluster keeps running")
        .isTrue();
  }

  @Test
  void createTopicWaitsUntilTheTopicIsVisibleWithItsConfig(TestKafkaCluster kafka)
      throws Exception {
    String topic = kafka.uniqueName("compacted");
    kafka.createTopic(topic, 3, 1, Map.of("cleanup.policy", "compact"));

    TopicDescription description =
        kafka.admin().describeTopics(List.of(topic)).allTopicNames().get().get(topic);
    assertThat(description.partitions()).hasSize(3).allMatch(p -> p.leader() != null);
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config = kafka.admin().describeConfigs(List.of(resource)).all().get().get(resource);
    assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
    assertThatThrownBy(() -> kafka.createTopic(topic, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(topic)
        .hasCauseInstanceOf(TopicExistsException.class);
  }

  @Test
  void readAllReturnsCommittedRecordsButNeitherAbortedNorOpenTransactions(TestKafkaCluster kafka)
      throws Exception {
    String topic = kafka.uniqueName("transactions");
    kafka.createTopic(topic, 2);
    try (KafkaProducer<String, String> plain = kafka.stringProducer()) {
      plain.send(new ProducerRecord<>(topic, "a", "plain-1")).get();
      plain.send(new ProducerRecord<>(topic, "b", "plain-2")).get();
    }
    try (KafkaProducer<String, String> tx = transactionalProducer(kafka);
        KafkaProducer<String, String> open = transactionalProducer(kafka)) {
      tx.initTransactions();
      tx.beginTransaction();
      tx.send(new ProducerRecord<>(topic, "c", "committed"));
      tx.commitTransaction();
      tx.beginTransaction();
      tx.send(new ProducerRecord<>(topic, "a", "aborted-1"));
      tx.send(new ProducerRecord<>(topic, "b", "aborted-2"));
      tx.flush();
      tx.abortTransaction();

      open.initTransactions();
      open.beginTransaction();
      open.send(new ProducerRecord<>(topic, "a", "undecided")).get();

      List<ConsumerRecord<String, String>> whileOpen = kafka.readAllStrings(topic, READ_TIMEOUT);
      assertThat(whileOpen)
          .extracting(ConsumerRecord::value)
          .containsExactlyInAnyOrder("plain-1", "plain-2", "committed");
      open.abortTransaction();
    }

    List<ConsumerRecord<String, String>> records = kafka.readAllStrings(topic, READ_TIMEOUT);
    assertThat(records)
        .extracting(ConsumerRecord::value)
        .containsExactlyInAnyOrder("plain-1", "plain-2", "committed");
    long endSum = kafka.endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
    assertThat(endSum)
        .as("aborted records and transaction markers take offsets too")
        .isGreaterThan(records.size());
  }

  @Test
  void uniqueNamesNeverRepeatAndKeepTheirPrefix(TestKafkaCluster kafka) {
    String first = kafka.uniqueName("app.id_x");
    String second = kafka.uniqueName("app.id_x");
    assertThat(first).startsWith("app.id_x-").matches("[a-zA-Z0-9._-]+");
    assertThat(second).startsWith("app.id_x-").isNotEqualTo(first);
    assertThatThrownBy(() -> kafka.uniqueName("no spaces"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Nested
  @BackboneKafkaCluster(
      brokers = 3,
      racks = {"rack-a", "rack-b", "rack-c"})
  class ThreeRacks {
    @Test
    void reportsOneBrokerPerRackAndReplicatesTopicsAcrossThem(TestKafkaCluster kafka)
        throws Exception {
      assertThat(kafka).isNotSameAs(fromBeforeAll);
      assertThat(kafka.admin().describeCluster().nodes().get())
          .extracting(Node::rack)
          .containsExactlyInAnyOrder("rack-a", "rack-b", "rack-c");

      String topic = kafka.uniqueName("replicated");
      kafka.createTopic(topic, 2);
      TopicDescription description =
          kafka.admin().describeTopics(List.of(topic)).allTopicNames().get().get(topic);
      for (TopicPartitionInfo partition : description.partitions()) {
        assertThat(partition.replicas())
            .extracting(Node::rack)
            .containsExactlyInAnyOrder("rack-a", "rack-b", "rack-c");
      }

      // Kafka Streams creates its internal topics with replication.factor -1: the controller's
      // default applies, and must be three here too.
      String defaulted = kafka.uniqueName("defaulted");
      kafka
          .admin()
          .createTopics(List.of(new NewTopic(defaulted, Optional.of(1), Optional.empty())))
          .all()
          .get();
      // Created directly, not through createTopic, so nothing waited for its metadata yet.
      await()
          .atMost(READ_TIMEOUT)
          .ignoreExceptions()
          .untilAsserted(
              () ->
                  assertThat(
                          kafka
                              .admin()
                              .describeTopics(List.of(defaulted))
                              .allTopicNames()
                              .get()
                              .get(defaulted)
                              .partitions()
                              .get(0)
                              .replicas())
                      .hasSize(3));

      // Transactions need __transaction_state, replicated 3 ways with min ISR 2 here.
      try (KafkaProducer<String, String> tx = transactionalProducer(kafka)) {
        tx.initTransactions();
        tx.beginTransaction();
        tx.send(new ProducerRecord<>(topic, "k", "v"));
        tx.commitTransaction();
      }
      assertThat(kafka.readAllStrings(topic, READ_TIMEOUT))
          .extracting(ConsumerRecord::value)
          .containsExactly("v");
    }
  }

  private static KafkaProducer<String, String> transactionalProducer(TestKafkaCluster kafka) {
    Properties props = kafka.clientProperties();
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, kafka.uniqueName("tx"));
    return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
  }

  private static boolean acceptsConnections(String bootstrapServers) throws IOException {
    String first = bootstrapServers.split(",")[0];
    int colon = first.lastIndexOf(':');
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress(
              first.substring(0, colon), Integer.parseInt(first.substring(colon + 1))),
          5_000);
      return true;
    } catch (ConnectException e) {
      return false;
    }
  }

  private static String failures(TestExecutionSummary summary) {
    StringWriter out = new StringWriter();
    summary.printFailuresTo(new PrintWriter(out), 20);
    return out.toString();
  }

  /** Records the clusters the probe classes below receive; they run only through the launcher. */
  static final class ClusterProbe {
    static final List<TestKafkaCluster> SEEN = new CopyOnWriteArrayList<>();

    private ClusterProbe() {}

    static void record(TestKafkaCluster kafka) throws Exception {
      assertThat(kafka.admin().describeCluster().nodes().get()).hasSize(1);
      SEEN.add(kafka);
    }
  }

  @BackboneKafkaCluster
  static final class AnnotatedProbe {
    @Test
    void receivesACluster(TestKafkaCluster kafka) throws Exception {
      ClusterProbe.record(kafka);
    }
  }

  @BackboneKafkaCluster(brokers = 1)
  static final class SameShapeProbe {
    @Test
    void receivesACluster(TestKafkaCluster kafka) throws Exception {
      ClusterProbe.record(kafka);
    }
  }

  @ExtendWith(KafkaClusterExtension.class)
  static final class PlainExtensionProbe {
    @Test
    void receivesACluster(TestKafkaCluster kafka) throws Exception {
      ClusterProbe.record(kafka);
    }
  }
}
