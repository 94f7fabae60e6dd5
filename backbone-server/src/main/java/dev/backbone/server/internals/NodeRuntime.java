package dev.backbone.server.internals;

import dev.backbone.bootstrap.ColdBootstrap;
import dev.backbone.bootstrap.PeerSnapshotFetcher;
import dev.backbone.bootstrap.SnapshotLender;
import dev.backbone.config.BackboneConfig;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.routing.RoutingCache;
import dev.backbone.server.EventTopic;
import dev.backbone.server.QueryableStore;
import dev.backbone.server.StreamsStage;
import dev.backbone.store.ServingTasks;
import dev.backbone.store.SnapshotStores;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of a node: HTTP first, then the stages in order; on close the stages in reverse order,
 * then HTTP.
 *
 * <p>Why this order: the HTTP server must be up before any stage, because a stage that holds a
 * queryable store announces the server's actual port on its routing members topic (the port is only
 * known once bound when {@code backbone.http.port=0}) before it joins its group, and so that {@code
 * /health/live} answers while stages restore. Stages close in reverse so that a downstream stage
 * stops before the stage that feeds it. HTTP closes last so that {@code /health/ready} reports the
 * shutdown while it happens. Every close step is bounded; {@link #close()} never hangs on a stuck
 * stage.
 */
public final class NodeRuntime implements LocalNode, AutoCloseable {
  /** How long close waits for each stage before giving up on it. */
  public static final Duration STAGE_CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private static final Logger log = LoggerFactory.getLogger(NodeRuntime.class);

  private enum Phase {
    NEW,
    STARTED,
    CLOSED
  }

  private final BackboneConfig config;
  private final Properties nodeProperties;
  private final List<StreamsStage> stages;
  private final Map<String, TopologyIndex> topologies;
  private final Set<String> stagesWithStores;
  private final PrometheusMeterRegistry registry;
  private final NodeMetrics metrics;
  private final HttpApi http;
  private final Map<String, RunningStage> running = new ConcurrentHashMap<>();
  private final Map<String, NodeRouting> routing = new ConcurrentHashMap<>();

  /** This node's open Backbone stores, registered by the stores of every stage. */
  private final SnapshotStores snapshotStores = new SnapshotStores();

  /** The snapshots this node lends to peers; deleted when the node closes. */
  private final SnapshotLender lender;

  /** The copies that fill this node's empty stores from peers; null without a cluster secret. */
  private final ColdBootstrap coldBootstrap;

  /** An admin client for the bootstrap's changelog lookups, created on first use. */
  private Admin bootstrapAdmin;

  private boolean bootstrapAdminClosed;

  /** Guards the two fields above (not the node's monitor, which close() holds for long). */
  private final Object bootstrapAdminLock = new Object();

  private volatile Phase phase = Phase.NEW;

  /**
   * A node that is validated but not started.
   *
   * @param config the Backbone settings
   * @param nodeProperties all node properties (Backbone settings and shared Kafka settings)
   * @param stages the stages in start order
   * @param topologies each stage's topology index
   * @param stores the queryable stores
   * @param registry the registry for every meter of the node
   * @param eventTopics the topics {@code POST /v1/events} appends to
   */
  public NodeRuntime(
      BackboneConfig config,
      Properties nodeProperties,
      List<StreamsStage> stages,
      Map<String, TopologyIndex> topologies,
      List<QueryableStore<?, ?>> stores,
      PrometheusMeterRegistry registry,
      List<EventTopic> eventTopics) {
    this.config = config;
    this.nodeProperties = nodeProperties;
    this.stages = List.copyOf(stages);
    this.topologies = Map.copyOf(topologies);
    this.stagesWithStores =
        stores.stream().map(QueryableStore::stageName).collect(Collectors.toUnmodifiableSet());
    this.registry = registry;
    this.metrics = new NodeMetrics(registry, config.nodeId(), this::isReady);
    this.lender =
        new SnapshotLender(
            snapshotStores,
            new SnapshotLender.Settings(
                config.bootstrapMaxSnapshots(),
                config.bootstrapSnapshotLease(),
                config.bootstrapSnapshotReuse()),
            Clock.systemUTC(),
            new KafkaChangelogProbe(this::bootstrapAdmin, this::probeConsumerConfigs));
    this.http =
        new HttpApi(
            this,
            config,
            registry,
            metrics,
            stores,
            lender,
            this::writeProducerConfigs,
            eventTopics);
    this.coldBootstrap = config.clusterSecret().map(this::coldBootstrap).orElse(null);
    if (coldBootstrap == null) {
      log.info(
          "Node {}: cold bootstrap is off (no {}); empty stores restore from their changelogs",
          config.nodeId(),
          BackboneConfig.CLUSTER_SECRET_CONFIG);
    }
    metrics.bindBootstrap(coldBootstrap, lender);
  }

  /**
   * Starts the HTTP server, then every stage in order.
   *
   * @throws IllegalStateException if the node was started or closed before
   * @throws FatalBackboneException if the HTTP port cannot be bound or a stage cannot start; the
   *     node is closed then
   */
  public synchronized void start() {
    if (phase != Phase.NEW) {
      throw new IllegalStateException(
          "Node " + config.nodeId() + " is " + phase + "; a node starts only once");
    }
    phase = Phase.STARTED;
    try {
      http.start();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    HostInfo endpoint = http.endpoint();
    log.info("Node {} serves HTTP on {}:{}", config.nodeId(), endpoint.host(), endpoint.port());
    for (StreamsStage stage : stages) {
      try {
        startStage(stage, endpoint);
      } catch (RuntimeException e) {
        close();
        throw new FatalBackboneException(
            "STAGE_START_FAILED",
            "Node "
                + config.nodeId()
                + " could not start stage '"
                + stage.name()
                + "': "
                + e.getMessage()
                + ". The node was closed; fix the stage's settings and start a new node.",
            e);
      }
    }
  }

  private void startStage(StreamsStage stage, HostInfo endpoint) {
    Properties properties = StageProperties.resolve(nodeProperties, stage, Optional.empty());
    RestoreTracker restores = new RestoreTracker();
    if (stagesWithStores.contains(stage.name())) {
      Object rack = nodeProperties.get(CommonClientConfigs.CLIENT_RACK_CONFIG);
      NodeRouting stageRouting =
          NodeRouting.start(
              properties, config.nodeId(), rack == null ? "" : rack.toString(), endpoint);
      routing.put(stage.name(), stageRouting);
      metrics.bindRouting(stage.name(), stageRouting.publisher());
      properties =
          StageProperties.resolve(
              nodeProperties,
              stage,
              Optional.of(
                  new StageProperties.Routing(
                      config.nodeId(),
                      config.routingDelegateAssignorClass(),
                      stageRouting.publisher(),
                      restores)));
    }
    properties.put(SnapshotStores.CONFIG, snapshotStores);
    ServingTasks serving = new ServingTasks();
    properties.put(ServingTasks.CONFIG, serving);
    if (coldBootstrap != null) {
      properties.put(ColdBootstrap.CONFIG, coldBootstrap);
    }
    KafkaStreams streams = new KafkaStreams(stage.topology(), properties);
    streams.setGlobalStateRestoreListener(restores);
    String nodeId = config.nodeId();
    streams.setStateListener(
        (now, before) -> log.info("Node {} stage {}: {} -> {}", nodeId, stage.name(), before, now));
    streams.setUncaughtExceptionHandler(
        e -> {
          log.error(
              "Node {} stage {} failed and shuts down; the node stays up but is not ready",
              nodeId,
              stage.name(),
              e);
          return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    running.put(
        stage.name(),
        new RunningStage(
            stage.name(),
            streams,
            topologies.get(stage.name()),
            restores,
            serving,
            StageProperties.exactlyOnce(properties)));
    metrics.bindStage(
        stage.name(),
        streams,
        properties.getProperty(
            StreamsConfig.CLIENT_ID_CONFIG,
            StageProperties.applicationId(nodeProperties, stage).orElse(stage.name())));
    streams.start();
  }

  /** This node's open Backbone stores (a peer's snapshot request finds them here). */
  public SnapshotStores snapshotStores() {
    return snapshotStores;
  }

  @Override
  public List<ColdBootstrap.Status> bootstraps() {
    return coldBootstrap == null ? List.of() : coldBootstrap.statuses();
  }

  private ColdBootstrap coldBootstrap(String secret) {
    PeerSnapshotFetcher fetcher =
        new PeerSnapshotFetcher(
            new PeerSnapshotFetcher.Settings(
                secret,
                config.bootstrapParallelism(),
                config.bootstrapThrottleBytesPerSecond(),
                config.bootstrapRequestTimeout(),
                3),
            config.httpTls().map(HttpTlsSetup::clientContext));
    RoutingBootstrapSource source =
        new RoutingBootstrapSource(
            config.nodeId(),
            app ->
                routing.values().stream()
                    .map(NodeRouting::cache)
                    .filter(c -> c.applicationId().equals(app))
                    .findFirst(),
            this::bootstrapAdmin,
            fetcher,
            config.bootstrapMinLagRecords(),
            config.bootstrapEstimate(),
            config.bootstrapMaxSourceLagRecords());
    return new ColdBootstrap(
        source,
        config.bootstrapConcurrentStores(),
        ColdBootstrap.DEFAULT_ABANDON_AFTER,
        config.bootstrapInitWait());
  }

  /** The restore-consumer settings of the first stage, for {@link KafkaChangelogProbe}. */
  /** The producer settings as Kafka Streams derives them for the first stage (security etc.). */
  private Map<String, Object> writeProducerConfigs() {
    StreamsConfig stage =
        new StreamsConfig(StageProperties.resolve(nodeProperties, stages.get(0), Optional.empty()));
    return stage.getProducerConfigs(config.nodeId() + "-http-writes");
  }

  private Map<String, Object> probeConsumerConfigs() {
    StreamsConfig stage =
        new StreamsConfig(StageProperties.resolve(nodeProperties, stages.get(0), Optional.empty()));
    return stage.getRestoreConsumerConfigs(config.nodeId() + "-bootstrap-probe");
  }

  private Admin bootstrapAdmin() {
    synchronized (bootstrapAdminLock) {
      if (bootstrapAdminClosed) {
        throw new IllegalStateException("node " + config.nodeId() + " is closing");
      }
      if (bootstrapAdmin == null) {
        // The admin settings as Kafka Streams derives them for a stage (admin.* prefixes,
        // security), as NodeRouting does.
        StreamsConfig stage =
            new StreamsConfig(
                StageProperties.resolve(nodeProperties, stages.get(0), Optional.empty()));
        bootstrapAdmin = Admin.create(stage.getAdminConfigs(config.nodeId() + "-bootstrap"));
      }
      return bootstrapAdmin;
    }
  }

  private void closeBootstrap() {
    if (coldBootstrap != null) {
      coldBootstrap.close();
    }
    Admin admin;
    synchronized (bootstrapAdminLock) {
      admin = bootstrapAdmin;
      bootstrapAdmin = null;
      bootstrapAdminClosed = true;
    }
    if (admin != null) {
      admin.close(Duration.ofSeconds(5));
    }
  }

  /** Closes the stages in reverse order, then the HTTP server. Idempotent. */
  @Override
  public synchronized void close() {
    if (phase == Phase.CLOSED) {
      return;
    }
    phase = Phase.CLOSED;
    List<StreamsStage> reversed = new ArrayList<>(stages);
    Collections.reverse(reversed);
    for (StreamsStage stage : reversed) {
      RunningStage r = running.get(stage.name());
      if (r == null) {
        continue;
      }
      try {
        // Nodes run without static membership, so staying in the group would only delay the
        // hand-over of this node's tasks until its session times out.
        CloseOptions leave =
            CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(STAGE_CLOSE_TIMEOUT);
        if (!r.streams().close(leave)) {
          log.warn(
              "Node {} stage {} did not close within {}; moving on",
              config.nodeId(),
              stage.name(),
              STAGE_CLOSE_TIMEOUT);
        }
      } catch (RuntimeException e) {
        log.warn("Node {} stage {} failed to close", config.nodeId(), stage.name(), e);
      }
    }
    for (NodeRouting stageRouting : routing.values()) {
      try {
        stageRouting.announceLeft();
      } finally {
        stageRouting.close();
      }
    }
    try {
      metrics.close();
    } finally {
      try {
        http.close();
      } finally {
        lender.close();
        closeBootstrap();
      }
    }
    log.info("Node {} closed", config.nodeId());
  }

  /** The HTTP port (the bound one once started). */
  public int httpPort() {
    return http.port();
  }

  /** The registry every meter of the node is in. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /**
   * The Kafka Streams instance of a stage.
   *
   * @throws IllegalArgumentException for an unknown stage
   * @throws IllegalStateException before the node started the stage
   */
  public KafkaStreams streams(String stageName) {
    if (stages.stream().noneMatch(s -> s.name().equals(stageName))) {
      throw new IllegalArgumentException(
          "Node " + config.nodeId() + " has no stage '" + stageName + "'; stages: " + stageNames());
    }
    RunningStage stage = running.get(stageName);
    if (stage == null) {
      throw new IllegalStateException(
          "Stage '" + stageName + "' of node " + config.nodeId() + " has not been started");
    }
    return stage.streams();
  }

  @Override
  public Optional<RoutingCache> routing(String stageName) {
    return Optional.ofNullable(routing.get(stageName)).map(NodeRouting::cache);
  }

  @Override
  public String nodeId() {
    return config.nodeId();
  }

  @Override
  public List<String> stageNames() {
    return stages.stream().map(StreamsStage::name).toList();
  }

  @Override
  public Optional<RunningStage> stage(String name) {
    return Optional.ofNullable(running.get(name));
  }

  @Override
  public boolean isReady() {
    if (phase != Phase.STARTED) {
      return false;
    }
    for (StreamsStage stage : stages) {
      RunningStage r = running.get(stage.name());
      if (r == null || r.streams().state() != KafkaStreams.State.RUNNING) {
        return false;
      }
    }
    return true;
  }
}
