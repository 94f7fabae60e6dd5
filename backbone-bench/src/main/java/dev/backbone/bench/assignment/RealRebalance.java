package dev.backbone.bench.assignment;

import dev.backbone.config.BackboneConfig;
import dev.backbone.kafka.embedded.EmbeddedKafkaBroker;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingPublisher;
import dev.backbone.routing.RoutingPublishingTaskAssignor;
import dev.backbone.routing.RoutingTopics;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.assignment.assignors.StickyTaskAssignor;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Real rebalances on an embedded broker, in one JVM: a group of {@code n} Kafka Streams instances
 * (one thread, one standby, a stateful count) forms, one more joins, one leaves. Stock: {@code
 * application.server} set, Kafka's StickyTaskAssignor. Backbone: no {@code application.server}, the
 * publishing assignor around the same StickyTaskAssignor. A phase ends when every instance went
 * through a rebalance after the phase began and all are RUNNING again.
 */
final class RealRebalance {
  /**
   * One mode's timings.
   *
   * @param mode {@code stock} or {@code backbone}
   * @param instances the group size that formed
   * @param formMillis all instances started at once until all RUNNING
   * @param joinMillis one more instance started until all RUNNING after a rebalance
   * @param leaveMillis one instance closed (leaving the group) until the rest are RUNNING again
   */
  record Result(String mode, int instances, long formMillis, long joinMillis, long leaveMillis) {}

  private RealRebalance() {}

  static List<Result> run(int instances, int partitions, Duration timeout, PrintStream out)
      throws Exception {
    Path dir = Files.createTempDirectory("backbone-bench-assignment");
    try (EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder().dataDir(dir.resolve("kafka")).build()) {
      broker.start();
      List<Result> results = new ArrayList<>();
      for (String mode : List.of("stock", "backbone")) {
        out.printf("real rebalance, %s, %d instances ...%n", mode, instances);
        results.add(runMode(mode, instances, partitions, timeout, broker.bootstrapServers(), dir));
      }
      return results;
    } finally {
      deleteRecursively(dir);
    }
  }

  private static Result runMode(
      String mode, int n, int partitions, Duration timeout, String bootstrap, Path dir) {
    String appId = "bench-rebalance-" + mode + "-" + System.nanoTime();
    String topic = appId + "-input";
    Properties adminProps = new Properties();
    adminProps.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(adminProps)) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
      if (mode.equals("backbone")) {
        RoutingTopics.ensure(admin, appId, (short) 1);
      }
    } catch (Exception e) {
      throw new IllegalStateException("could not create the benchmark topics: " + e, e);
    }
    RoutingCache cache = new RoutingCache(appId);
    Optional<RoutingPublisher> publisher =
        mode.equals("backbone")
            ? Optional.of(
                new RoutingPublisher(Map.of("bootstrap.servers", (Object) bootstrap), cache))
            : Optional.empty();
    List<Instance> group = new ArrayList<>();
    try {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        group.add(Instance.start(mode, appId, topic, i, bootstrap, dir, publisher));
      }
      awaitRebalanced(group, t0, timeout, "form");
      long form = millisSince(t0);

      long t1 = System.nanoTime();
      group.add(Instance.start(mode, appId, topic, n, bootstrap, dir, publisher));
      awaitRebalanced(group, t1, timeout, "join");
      long join = millisSince(t1);

      long t2 = System.nanoTime();
      group.remove(0).close();
      awaitRebalanced(group, t2, timeout, "leave");
      long leave = millisSince(t2);
      return new Result(mode, n, form, join, leave);
    } finally {
      group.forEach(Instance::close);
      publisher.ifPresent(RoutingPublisher::close);
    }
  }

  private static void awaitRebalanced(
      List<Instance> group, long since, Duration timeout, String phase) {
    long deadline = since + timeout.toNanos();
    while (!group.stream().allMatch(i -> i.runningSince(since))) {
      if (group.stream().anyMatch(i -> i.streams().state() == KafkaStreams.State.ERROR)) {
        throw new IllegalStateException("an instance failed during the " + phase + " rebalance");
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the " + phase + " rebalance did not settle within " + timeout);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while benchmarking", e);
      }
    }
  }

  private static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  /** One Kafka Streams instance and when it last became RUNNING. */
  private record Instance(KafkaStreams streams, AtomicLong lastRunningNanos) {
    static Instance start(
        String mode,
        String appId,
        String topic,
        int index,
        String bootstrap,
        Path dir,
        Optional<RoutingPublisher> publisher) {
      Properties props = new Properties();
      props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
      props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve(appId + "-" + index).toString());
      props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
      props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, 1);
      props.put(StreamsConfig.CLIENT_ID_CONFIG, appId + "-" + index);
      if (publisher.isPresent()) {
        props.put(
            StreamsConfig.TASK_ASSIGNOR_CLASS_CONFIG,
            RoutingPublishingTaskAssignor.class.getName());
        props.put(
            BackboneConfig.ROUTING_DELEGATE_ASSIGNOR_CLASS_CONFIG,
            StickyTaskAssignor.class.getName());
        props.put(RoutingPublishingTaskAssignor.PUBLISHER_CONFIG, publisher.get());
        props.put(StreamsConfig.clientTagPrefix(RoutingTopics.NODE_ID_TAG), "node-" + index);
      } else {
        props.put(StreamsConfig.TASK_ASSIGNOR_CLASS_CONFIG, StickyTaskAssignor.class.getName());
        props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, "127.0.0.1:" + (20_000 + index));
      }
      StreamsBuilder builder = new StreamsBuilder();
      builder.stream(topic, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
          .groupByKey(Grouped.with(Serdes.ByteArray(), Serdes.ByteArray()))
          .count(
              Materialized.<byte[], Long, KeyValueStore<Bytes, byte[]>>as("counts")
                  .withKeySerde(Serdes.ByteArray()));
      Topology topology = builder.build();
      KafkaStreams streams = new KafkaStreams(topology, props);
      AtomicLong running = new AtomicLong(-1);
      streams.setStateListener(
          (now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
              running.set(System.nanoTime());
            } else {
              running.set(-1);
            }
          });
      streams.start();
      return new Instance(streams, running);
    }

    boolean runningSince(long nanos) {
      return streams.state() == KafkaStreams.State.RUNNING && lastRunningNanos.get() >= nanos;
    }

    void close() {
      streams.close(
          CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
              .withTimeout(Duration.ofSeconds(30)));
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
