package dev.backbone.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.examples.profiles.StoreKind;
import dev.backbone.server.HttpProbe.Reply;
import dev.backbone.testkit.BackboneKafkaCluster;
import dev.backbone.testkit.ContinuousReads;
import dev.backbone.testkit.ReadChecker;
import dev.backbone.testkit.TestKafkaCluster;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An active task that restores while its stream thread keeps running answers no read as current.
 *
 * <p>Two nodes count events per key under exactly-once. Once every event is committed, a fault
 * event makes one task corrupt itself the way Kafka Streams handles a real corruption ({@code
 * TaskManager#handleCorruption}): it is closed dirty, its state directory wiped, and it restores
 * its whole changelog in the state updater while the thread stays {@code RUNNING} (the rebalance
 * that {@code StreamThread} enforces afterwards takes until the other node's next heartbeat).
 * Readers keep reading that task's keys through both nodes all along, one of them with {@code
 * staleOk}; every answer must be the key's latest count, a 503 with {@code Retry-After}, or (for
 * {@code staleOk}) an answer marked stale with its lag. A count below one the reader saw, or a "not
 * found", fails the test: every key was committed before the fault.
 */
@BackboneKafkaCluster(brokers = 1)
class RestoringActiveReadsIT {
  private static final Duration PATIENCE = Duration.ofSeconds(120);
  private static final int PARTITIONS = 2;
  private static final int KEYS = 1_000;
  private static final int EVENTS_PER_KEY = 20;
  private static final int READ_KEYS = 40;

  /** Readers; reader 0 reads with {@code staleOk}. */
  private static final int READERS = 6;

  private final List<BackboneNode> nodes = new ArrayList<>();

  @AfterEach
  void closeNodes() {
    nodes.forEach(BackboneNode::close);
  }

  @Test
  void aRestoringActiveNeverAnswersAsCurrent(TestKafkaCluster kafka) throws Exception {
    CountingNodes.App app =
        CountingNodes.App.create(
            kafka, "restoring", PARTITIONS, StreamsConfig.EXACTLY_ONCE_V2, StoreKind.BACKBONE);
    CountingNodes.FaultSwitch fault =
        new CountingNodes.FaultSwitch(CountingNodes.FaultKind.CORRUPT_TASK);
    Properties stage = new Properties();
    // Small restore batches: the wiped task restores for a while, with reads in between.
    stage.setProperty(StreamsConfig.restoreConsumerPrefix("max.poll.records"), "10");
    for (String id : List.of("node-a", "node-b")) {
      BackboneNode node =
          CountingNodes.node(
              kafka, app, id, Files.createTempDirectory("backbone-" + id), fault, stage);
      node.start();
      nodes.add(node);
    }

    List<String> keys = new ArrayList<>();
    List<String[]> events = new ArrayList<>();
    for (int round = 0; round < EVENTS_PER_KEY; round++) {
      for (int k = 0; k < KEYS; k++) {
        events.add(new String[] {"k-" + k, "e"});
      }
    }
    for (int k = 0; k < KEYS; k++) {
      keys.add("k-" + k);
    }
    ProfileNodes.send(kafka, app.topic(), events);

    ReadChecker<JsonNode> checker = new ReadChecker<>(RestoringActiveReadsIT::prefixesOf);
    await("every event committed")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> kafka.hasCommittedToEnd(app.applicationId(), app.topic()));
    keys.forEach(checker::mustExist);

    // The task of partition 0 is the one the fault corrupts; some of its keys are the ones read.
    List<String> target = keys.stream().filter(k -> partitionOf(k) == 0).limit(READ_KEYS).toList();
    List<HttpProbe> probes = nodes.stream().map(n -> new HttpProbe(n.httpPort())).toList();
    awaitLatest(checker, probes, target);

    long before;
    try (ContinuousReads reads =
        ContinuousReads.start(
            checker,
            READERS,
            target,
            (client, key) -> {
              boolean staleOk = client == 0;
              Reply r =
                  probes
                      .get(client % probes.size())
                      .get(path(key) + (staleOk ? "?staleOk=true" : ""));
              return answer(r);
            })) {
      before = checker.counts().total();
      ProfileNodes.send(
          kafka, app.topic(), List.<String[]>of(new String[] {target.get(0), CountingNodes.FAULT}));
      await("the fault fired").atMost(PATIENCE).until(fault::fired);
      // Until the corrupted task restored and runs again, on both nodes' side.
      await("both nodes ready again")
          .atMost(PATIENCE)
          .until(() -> nodes.stream().allMatch(BackboneNode::isReady));
      awaitLatest(checker, probes, target);
      assertThat(reads.completed()).isPositive();
    }

    ReadChecker.Counts counts = checker.counts();
    checker.assertNoViolations();
    // The restore was seen: some read during it was refused or answered stale.
    assertThat(counts.retries() + counts.staleValues() + counts.staleNotFound())
        .as("reads refused or answered stale while the task restored, of %s", counts)
        .isPositive();
    assertThat(counts.total()).isGreaterThan(before);
  }

  /** Every key read through every node until it answers its latest count; each answer checked. */
  private static void awaitLatest(
      ReadChecker<JsonNode> checker, List<HttpProbe> probes, List<String> keys) {
    for (int n = 0; n < probes.size(); n++) {
      HttpProbe probe = probes.get(n);
      String client = "settle-" + n;
      for (String key : keys) {
        await()
            .atMost(PATIENCE)
            .pollDelay(Duration.ZERO)
            .pollInterval(Duration.ofMillis(50))
            .until(
                () -> {
                  ReadChecker<JsonNode>.Read read = checker.begin(client, key);
                  Reply r = probe.get(path(key));
                  read.end(answer(r));
                  checker.assertNoViolations();
                  return r.status() == 200 && r.json().path("value").asLong() == EVENTS_PER_KEY;
                });
      }
    }
  }

  /** The checker's view of an answer; a stale answer without its lag is unexpected. */
  private static ReadChecker.Answer<JsonNode> answer(Reply r) {
    ReadChecker.Answer<JsonNode> answer =
        ReadChecker.httpAnswer(r.status(), r.header("Retry-After").orElse(null), r.body());
    boolean stale =
        answer instanceof ReadChecker.Answer.Value<JsonNode> v && v.stale()
            || answer instanceof ReadChecker.Answer.NotFound<JsonNode> nf && nf.stale();
    if (stale && !r.json().path("lag").isIntegralNumber()) {
      return new ReadChecker.Answer.Unexpected<>("stale answer without its lag: " + r.body());
    }
    return answer;
  }

  private static Set<Integer> prefixesOf(String key, JsonNode count) {
    long n = count.asLong(-1);
    return count.isIntegralNumber() && n >= 1 && n <= EVENTS_PER_KEY ? Set.of((int) n) : Set.of();
  }

  private static String path(String key) {
    return "/v1/stores/" + CountingNodes.STORE + "/keys/" + key;
  }

  private static int partitionOf(String key) {
    byte[] bytes = new StringSerializer().serialize("", key);
    return Utils.toPositive(Utils.murmur2(bytes)) % PARTITIONS;
  }
}
