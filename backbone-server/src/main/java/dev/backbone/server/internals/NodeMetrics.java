package dev.backbone.server.internals;

import dev.backbone.assignment.AssignmentMetrics;
import dev.backbone.bootstrap.ColdBootstrap;
import dev.backbone.bootstrap.SnapshotLender;
import dev.backbone.retention.SnapshotSchedule;
import dev.backbone.routing.RoutingPublisher;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's meters: JVM and process metrics, every stage's Kafka Streams metrics and routing
 * publication, the HTTP request timer and the readiness gauge. Everything bound here is unbound on
 * {@link #close()}, so a registry that outlives the node does not keep reporting a closed node.
 */
public final class NodeMetrics implements AutoCloseable {
  /** Timer of every HTTP request, tagged method, route (the template) and status. */
  public static final String HTTP_REQUESTS = "backbone.http.requests";

  /** Counter: forwarded key reads sent to their owner in a coalesced batch, not alone. */
  public static final String FORWARD_COALESCED_READS = "backbone.http.forward.coalesced.reads";

  /** Counter: coalesced batches of forwarded key reads sent. */
  public static final String FORWARD_BATCHES = "backbone.http.forward.batches";

  /** 1 while every stage is RUNNING, else 0. */
  public static final String NODE_READY = "backbone.node.ready";

  /** Failed attempts to publish a routing table, per stage ({@code ..._total} in Prometheus). */
  public static final String ROUTING_PUBLISH_FAILURES = "backbone.routing.publish.failures";

  /** 1 while a routing table this node handed over as group leader is not acknowledged yet. */
  public static final String ROUTING_PUBLISH_WAITING = "backbone.routing.publish.waiting";

  /** The generation of the last routing table this node published (0 before any). */
  public static final String ROUTING_PUBLISHED_GENERATION = "backbone.routing.published.generation";

  /** Stores filled from a peer's snapshot since the node started ({@code ..._total}). */
  public static final String BOOTSTRAP_COPIED = "backbone.bootstrap.copied";

  /** Stores that needed a copy and restored from the changelog instead ({@code ..._total}). */
  public static final String BOOTSTRAP_FELL_BACK = "backbone.bootstrap.fell.back";

  /**
   * Store initializations refused because the store needs changelog records that were deleted and
   * no copy could be made ({@code ..._total}); a task that keeps counting here is waiting for a
   * replica to copy from.
   */
  public static final String BOOTSTRAP_BLOCKED = "backbone.bootstrap.blocked";

  /** Copies dropped because their task moved away before installing them ({@code ..._total}). */
  public static final String BOOTSTRAP_ABANDONED = "backbone.bootstrap.abandoned";

  /** Copies from peers running now. */
  public static final String BOOTSTRAP_RUNNING = "backbone.bootstrap.running";

  public static final String BOOTSTRAP_FROM_ARCHIVE = "backbone.bootstrap.archive.copied";
  public static final String ARCHIVE_UPLOADS = "backbone.archive.uploads";
  public static final String ARCHIVE_UPLOAD_BYTES = "backbone.archive.upload.bytes";
  public static final String ARCHIVE_FAILURES = "backbone.archive.failures";
  public static final String ARCHIVE_NEWEST_AGE = "backbone.archive.newest.snapshot.age.seconds";

  /** Snapshots this node lends to peers now. */
  public static final String BOOTSTRAP_LENT = "backbone.bootstrap.snapshots.lent";

  private static final Logger log = LoggerFactory.getLogger(NodeMetrics.class);

  private final ConcurrentMap<RequestKey, Timer> requestTimers = new ConcurrentHashMap<>();
  private final MeterRegistry registry;
  private final Gauge ready;
  private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
  private final List<KafkaStreamsMetrics> stageMetrics = new ArrayList<>();
  private final List<Meter> stageMeters = new ArrayList<>();

  /** The meters bound for each stage, removed when the stage's instance is replaced. */
  private final java.util.Map<String, List<Meter>> metersByStage = new java.util.HashMap<>();

  private final java.util.Map<String, List<KafkaStreamsMetrics>> bindersByStage =
      new java.util.HashMap<>();

  /**
   * Binds the JVM metrics and the readiness gauge.
   *
   * @param registry the node's registry
   * @param nodeId the node id, a tag of the readiness gauge
   * @param isReady whether the node is ready
   */
  public NodeMetrics(MeterRegistry registry, String nodeId, BooleanSupplier isReady) {
    this.registry = registry;
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gcMetrics.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    this.ready =
        Gauge.builder(NODE_READY, isReady, r -> r.getAsBoolean() ? 1 : 0)
            .description("1 while every stage of the node is RUNNING, else 0")
            .tag("node", nodeId)
            // The supplier lives only in this gauge; a weak reference would be collected.
            .strongReference(true)
            .register(registry);
  }

  /**
   * Binds a stage's Kafka Streams metrics, tagged with the stage name, and the rack violations of
   * the last assignment the stage computed as group leader (0 while it never led one).
   *
   * @param stageName the stage
   * @param streams the stage's Kafka Streams
   * @param assignorKey the stage's {@code client.id}, or its {@code application.id} without one:
   *     the key {@link AssignmentMetrics} files the assignor's figures under
   */
  public synchronized void bindStage(String stageName, KafkaStreams streams, String assignorKey) {
    KafkaStreamsMetrics binder =
        new KafkaStreamsMetrics(
            streams, Tags.of("stage", stageName), new RefreshScheduler(stageName));
    binder.bindTo(registry);
    stageMetrics.add(binder);
    bindersByStage.computeIfAbsent(stageName, n -> new ArrayList<>()).add(binder);
    stageMeter(
        stageName,
        Gauge.builder(
                AssignmentMetrics.RACK_VIOLATIONS,
                assignorKey,
                key -> AssignmentMetrics.rackViolations(key).orElse(0))
            .description(
                "Tasks whose replicas share a rack in the last assignment this node computed as"
                    + " group leader")
            .tag("stage", stageName)
            .strongReference(true)
            .register(registry));
  }

  /** Binds how this node's forwarded key reads were coalesced ({@link ForwardCoalescer}). */
  public synchronized void bindForwards(ForwardCoalescer coalescer) {
    FunctionCounter.builder(FORWARD_COALESCED_READS, coalescer, ForwardCoalescer::coalescedReads)
        .description("Forwarded key reads sent to their owner in a coalesced batch, not alone")
        .register(registry);
    FunctionCounter.builder(FORWARD_BATCHES, coalescer, ForwardCoalescer::batches)
        .description("Coalesced batches of forwarded key reads sent to their owners")
        .register(registry);
  }

  /**
   * Binds what a stage's routing publisher did: failed attempts, whether a table waits, and the
   * generation last published. They move only on the node that led a rebalance. The counter holds
   * the publisher weakly (Micrometer has no other way); the node's routing holds it until close.
   */
  public synchronized void bindRouting(String stageName, RoutingPublisher publisher) {
    stageMeter(
        stageName,
        FunctionCounter.builder(
                ROUTING_PUBLISH_FAILURES, publisher, p -> p.status().failedAttempts())
            .description("Failed attempts to publish a routing table (retried until published)")
            .tag("stage", stageName)
            .register(registry));
    stageMeter(
        stageName,
        Gauge.builder(ROUTING_PUBLISH_WAITING, publisher, p -> p.status().waiting() ? 1 : 0)
            .description("1 while a routing table handed over for publication is not acknowledged")
            .tag("stage", stageName)
            .strongReference(true)
            .register(registry));
    stageMeter(
        stageName,
        Gauge.builder(
                ROUTING_PUBLISHED_GENERATION, publisher, p -> p.status().publishedGeneration())
            .description("Generation of the last routing table this node published, 0 before any")
            .tag("stage", stageName)
            .strongReference(true)
            .register(registry));
  }

  /**
   * Binds cold bootstrap: copies done, fallen back and running on this node, and the snapshots it
   * lends. Without a cluster secret there is no {@code cold} and only the lending gauge is bound.
   */
  public synchronized void bindBootstrap(ColdBootstrap cold, SnapshotLender lender) {
    stageMeters.add(
        Gauge.builder(BOOTSTRAP_LENT, lender, l -> l.loans().size())
            .description("Snapshots this node lends to peers now")
            .strongReference(true)
            .register(registry));
    if (cold == null) {
      return;
    }
    stageMeters.add(
        FunctionCounter.builder(BOOTSTRAP_COPIED, cold, ColdBootstrap::completed)
            .description("Stores filled from a peer's snapshot (then only the changelog tail)")
            .register(registry));
    stageMeters.add(
        FunctionCounter.builder(BOOTSTRAP_FELL_BACK, cold, ColdBootstrap::fellBack)
            .description("Stores that needed a copy and restored from the changelog instead")
            .register(registry));
    stageMeters.add(
        FunctionCounter.builder(BOOTSTRAP_BLOCKED, cold, ColdBootstrap::blocked)
            .description(
                "Store initializations refused: changelog records the store needs were deleted"
                    + " and no copy could be made")
            .register(registry));
    stageMeters.add(
        FunctionCounter.builder(BOOTSTRAP_ABANDONED, cold, ColdBootstrap::abandoned)
            .description("Copies dropped because their task moved away before installing them")
            .register(registry));
    stageMeters.add(
        FunctionCounter.builder(BOOTSTRAP_FROM_ARCHIVE, cold, ColdBootstrap::fromArchive)
            .description("Stores filled from the snapshot archive (no peer could lend)")
            .register(registry));
    stageMeters.add(
        Gauge.builder(BOOTSTRAP_RUNNING, cold, ColdBootstrap::running)
            .description("Copies from peers running now")
            .strongReference(true)
            .register(registry));
  }

  /** The snapshot schedule's meters: uploads, bytes, failures, the oldest newest snapshot. */
  public synchronized void bindArchive(SnapshotSchedule schedule) {
    stageMeters.add(
        FunctionCounter.builder(ARCHIVE_UPLOADS, schedule, SnapshotSchedule::uploads)
            .description("Snapshots of active stores uploaded to the archive")
            .register(registry));
    stageMeters.add(
        FunctionCounter.builder(ARCHIVE_UPLOAD_BYTES, schedule, SnapshotSchedule::bytesSent)
            .description("Bytes sent to the archive (only files it lacked)")
            .baseUnit("bytes")
            .register(registry));
    stageMeters.add(
        FunctionCounter.builder(ARCHIVE_FAILURES, schedule, SnapshotSchedule::failures)
            .description("Uploads to the archive that failed (each is tried again)")
            .register(registry));
    stageMeters.add(
        Gauge.builder(
                ARCHIVE_NEWEST_AGE,
                schedule,
                s -> s.oldestNewestAge().map(d -> d.toMillis() / 1000.0).orElse(0.0))
            .description(
                "Among this node's active stores, the age of the oldest newest archived snapshot:"
                    + " keep it well under the changelog retention")
            .strongReference(true)
            .register(registry));
  }

  /**
   * The scheduler of one stage's Kafka metrics binder. Micrometer looks for new Kafka metrics every
   * 60 s; tasks, and the metrics of their stores, come and go with every rebalance, so this one
   * looks every {@link #REFRESH}. The binder shuts it down when it closes.
   */
  private static final class RefreshScheduler extends ScheduledThreadPoolExecutor {
    private static final Duration REFRESH = Duration.ofSeconds(5);

    RefreshScheduler(String stage) {
      super(
          1,
          r -> {
            Thread thread = new Thread(r, "backbone-metrics-" + stage);
            thread.setDaemon(true);
            return thread;
          });
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(
        Runnable command, long initialDelay, long period, TimeUnit unit) {
      long every = Math.min(unit.toMillis(period), REFRESH.toMillis());
      return super.scheduleAtFixedRate(
          command, Math.min(unit.toMillis(initialDelay), every), every, TimeUnit.MILLISECONDS);
    }
  }

  private void stageMeter(String stageName, Meter meter) {
    stageMeters.add(meter);
    metersByStage.computeIfAbsent(stageName, n -> new ArrayList<>()).add(meter);
  }

  /**
   * Removes what {@link #bindStage} and {@link #bindRouting} bound for a stage, before its instance
   * is replaced (a paused or rescaled stage): Micrometer would otherwise keep reporting the old
   * instance under the same names. Does nothing for a stage never bound.
   */
  public synchronized void unbindStage(String stageName) {
    for (KafkaStreamsMetrics binder : bindersByStage.getOrDefault(stageName, List.of())) {
      try {
        binder.close();
      } catch (RuntimeException e) {
        log.warn("Could not unbind Kafka Streams metrics of stage {}", stageName, e);
      }
      stageMetrics.remove(binder);
    }
    bindersByStage.remove(stageName);
    for (Meter meter : metersByStage.getOrDefault(stageName, List.of())) {
      registry.remove(meter);
      stageMeters.remove(meter);
    }
    metersByStage.remove(stageName);
  }

  /** Records one HTTP request. */
  public void recordRequest(String method, String route, int status, long nanos) {
    // One timer per (method, route template, status): a bounded set, looked up without building
    // a meter id per request.
    requestTimers
        .computeIfAbsent(
            new RequestKey(method, route, status),
            k ->
                Timer.builder(HTTP_REQUESTS)
                    .description("HTTP requests served by this node")
                    .tags("method", method, "route", route, "status", Integer.toString(status))
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  private record RequestKey(String method, String route, int status) {}

  @Override
  public synchronized void close() {
    for (KafkaStreamsMetrics binder : stageMetrics) {
      try {
        binder.close();
      } catch (RuntimeException e) {
        log.warn("Could not unbind Kafka Streams metrics", e);
      }
    }
    stageMetrics.clear();
    stageMeters.forEach(registry::remove);
    stageMeters.clear();
    gcMetrics.close();
    registry.remove(ready);
  }
}
