package dev.backbone.server.internals;

import dev.backbone.bootstrap.ColdBootstrap;
import dev.backbone.bootstrap.PeerSnapshotFetcher;
import dev.backbone.bootstrap.SnapshotLender;
import dev.backbone.config.BackboneConfig;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.rescale.RescaleLog;
import dev.backbone.rescale.RescalePlan;
import dev.backbone.routing.RoutingCache;
import dev.backbone.server.EventTopic;
import dev.backbone.server.QueryableStore;
import dev.backbone.server.StreamsStage;
import dev.backbone.store.ServingTasks;
import dev.backbone.store.SnapshotStore;
import dev.backbone.store.SnapshotStores;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
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
import org.apache.kafka.streams.processor.TaskId;
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

  /** The keyed state stages (those a rescale can move to another generation), by stage name. */
  private final Map<String, KeyedStageHandle> keyed;

  /** Each keyed stage's generation that serves queries (the one in {@link #running}). */
  private final Map<String, Integer> servingGeneration = new ConcurrentHashMap<>();

  /**
   * Generations of keyed stages that run beside the serving one: the next, while a rescale starts
   * it, or the previous, until the rescale stops it. By stage name, then generation.
   */
  private final Map<String, Map<Integer, Generation>> otherGenerations = new ConcurrentHashMap<>();

  /** The instance that serves each stage (as in {@link #running}, with its routing). */
  private final Map<String, Generation> servingGenerations = new ConcurrentHashMap<>();

  /** Stages a rescale paused (closed, offsets committed) on this node. */
  private final Set<String> paused = ConcurrentHashMap.newKeySet();

  /** The last rescale state this node read at start or was told by the coordinator. */
  private volatile RescaleState rescale = RescaleState.NONE;

  /** A stage instance with its routing (null for a stage without queryable stores). */
  private record Generation(
      int generation, RunningStage stage, NodeRouting routing, String assignorKey) {}

  /** This node's open Backbone stores, registered by the stores of every stage. */
  private final SnapshotStores snapshotStores = new SnapshotStores();

  /** The snapshots this node lends to peers; deleted when the node closes. */
  private final SnapshotLender lender;

  /** The copies that fill this node's empty stores from peers; null without a cluster secret. */
  private final ColdBootstrap coldBootstrap;

  /** The snapshot archive, its schedule and the bounded changelogs of this node's stages. */
  private final NodeRetention retention;

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
      List<EventTopic> eventTopics,
      Map<String, KeyedStageHandle> keyed) {
    this.config = config;
    this.keyed = Map.copyOf(keyed);
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
    this.retention =
        new NodeRetention(
            config,
            this::bootstrapAdmin,
            this::activeSnapshotStores,
            lender::cutCurrent,
            this::changelogTopics);
    this.coldBootstrap = config.clusterSecret().map(this::coldBootstrap).orElse(null);
    if (coldBootstrap == null) {
      log.info(
          "Node {}: cold bootstrap is off (no {}); empty stores restore from their changelogs",
          config.nodeId(),
          BackboneConfig.CLUSTER_SECRET_CONFIG);
    }
    metrics.bindBootstrap(coldBootstrap, lender);
    retention.schedule().ifPresent(metrics::bindArchive);
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
    try {
      readGenerations();
    } catch (RuntimeException e) {
      close();
      throw new FatalBackboneException(
          "STAGE_START_FAILED",
          "Node "
              + config.nodeId()
              + " could not read which generation its keyed state runs (the rescale log): "
              + e.getMessage()
              + ". The node was closed; start it again once the brokers answer.",
          e);
    }
    for (StreamsStage stage : stages) {
      if (paused.contains(stage.name())) {
        log.info(
            "Node {} leaves stage {} paused: a rescale of its keyed state runs ({})",
            config.nodeId(),
            stage.name(),
            rescale.step());
        continue;
      }
      try {
        serve(stage.name(), launchCurrent(stage, endpoint));
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
    retention.start();
  }

  /**
   * Creates and starts a stage's Kafka Streams instance (and its routing, for a stage with
   * queryable stores); binds nothing to the node's serving maps or metrics ({@link #serve}).
   */
  private Generation launch(StreamsStage stage, HostInfo endpoint, int generation) {
    Properties properties = StageProperties.resolve(nodeProperties, stage, Optional.empty());
    String applicationId = StageProperties.applicationId(nodeProperties, stage).orElse("");
    RestoreTracker restores = new RestoreTracker();
    NodeRouting stageRouting = null;
    if (stagesWithStores.contains(stage.name())) {
      Object rack = nodeProperties.get(CommonClientConfigs.CLIENT_RACK_CONFIG);
      stageRouting =
          NodeRouting.start(
              properties, config.nodeId(), rack == null ? "" : rack.toString(), endpoint);
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
    KafkaStreams streams;
    try {
      streams = new KafkaStreams(stage.topology(), properties);
    } catch (RuntimeException e) {
      if (stageRouting != null) {
        stageRouting.close();
      }
      throw e;
    }
    streams.setGlobalStateRestoreListener(restores);
    String nodeId = config.nodeId();
    String label = stage.name() + (keyed.containsKey(stage.name()) ? " g" + generation : "");
    streams.setStateListener(
        (now, before) -> log.info("Node {} stage {}: {} -> {}", nodeId, label, before, now));
    streams.setUncaughtExceptionHandler(
        e -> {
          log.error(
              "Node {} stage {} failed and shuts down; the node stays up but is not ready",
              nodeId,
              label,
              e);
          return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    TopologyIndex topology =
        keyed.containsKey(stage.name())
            ? TopologyIndex.of(stage.topology(), applicationId)
            : topologies.get(stage.name());
    RunningStage runningStage =
        new RunningStage(
            stage.name(),
            streams,
            topology,
            restores,
            serving,
            StageProperties.exactlyOnce(properties));
    streams.start();
    return new Generation(
        generation,
        runningStage,
        stageRouting,
        properties.getProperty(
            StreamsConfig.CLIENT_ID_CONFIG,
            applicationId.isEmpty() ? stage.name() : applicationId));
  }

  /** Starts a stage as it runs now: a keyed stage at its serving generation. */
  private Generation launchCurrent(StreamsStage declared, HostInfo endpoint) {
    KeyedStageHandle k = keyed.get(declared.name());
    int generation = servingGeneration.getOrDefault(declared.name(), 0);
    return launch(k == null ? declared : k.forGeneration().apply(generation), endpoint, generation);
  }

  /** Makes a started instance the one that serves its stage, and binds its metrics. */
  private void serve(String stageName, Generation started) {
    metrics.unbindStage(stageName);
    if (started.routing() != null) {
      routing.put(stageName, started.routing());
      metrics.bindRouting(stageName, started.routing().publisher());
    }
    running.put(stageName, started.stage());
    servingGenerations.put(stageName, started);
    if (keyed.containsKey(stageName)) {
      servingGeneration.put(stageName, started.generation());
      updateGenerationHeader();
    }
    metrics.bindStage(stageName, started.stage().streams(), started.assignorKey());
  }

  /**
   * Which generation each keyed stage runs, and whether its feeder is paused, from the rescale log
   * (a node that starts during a rescale joins it where it stands).
   */
  private void readGenerations() {
    for (KeyedStageHandle k : keyed.values()) {
      Optional<RescalePlan> plan =
          RescaleLog.readCurrent(bootstrapAdmin(), probeConsumerConfigs(), k.applicationId());
      RescaleState state = plan.map(RescaleState::of).orElse(RescaleState.NONE);
      int generation = state.servingGeneration();
      servingGeneration.put(k.name(), generation);
      k.setGeneration().accept(generation);
      if (state.feederPaused()) {
        paused.add(k.feeder());
      }
      rescale = state;
      updateGenerationHeader();
      log.info(
          "Node {} runs keyed stage {} at generation {} ({})",
          config.nodeId(),
          k.name(),
          generation,
          plan.map(
                  p ->
                      "rescale "
                          + p.fromPartitions()
                          + " -> "
                          + p.toPartitions()
                          + " at "
                          + p.step())
              .orElse("never rescaled"));
    }
  }

  /** Every stage's Kafka Streams instance on this node, serving generations and others. */
  private List<RunningStage> allRunningStages() {
    List<RunningStage> out = new ArrayList<>(running.values());
    otherGenerations.values().forEach(m -> m.values().forEach(g -> out.add(g.stage())));
    return out;
  }

  /** The Backbone stores of the tasks active on this node now, for the snapshot schedule. */
  private List<SnapshotStore> activeSnapshotStores() {
    Map<String, Set<TaskId>> active = new HashMap<>();
    for (RunningStage stage : allRunningStages()) {
      try {
        for (org.apache.kafka.streams.ThreadMetadata t :
            stage.streams().metadataForLocalThreads()) {
          for (org.apache.kafka.streams.TaskMetadata task : t.activeTasks()) {
            active
                .computeIfAbsent(stage.topology().applicationId(), a -> new HashSet<>())
                .add(task.taskId());
          }
        }
      } catch (RuntimeException e) {
        // A stage closing or not started: it has no active task to archive now.
      }
    }
    return snapshotStores.all().stream()
        .filter(s -> active.getOrDefault(s.applicationId(), Set.of()).contains(s.taskId()))
        .toList();
  }

  /** The changelog topic of every store of every stage running here (created or not yet). */
  private Set<String> changelogTopics() {
    Set<String> out = new java.util.TreeSet<>();
    for (RunningStage stage : allRunningStages()) {
      String app = stage.topology().applicationId();
      if (app == null || app.isEmpty()) {
        continue;
      }
      for (String store : stage.topology().storeNames()) {
        out.add(app + "-" + store + "-changelog");
      }
    }
    return out;
  }

  /** This node's open Backbone stores (a peer's snapshot request finds them here). */
  public SnapshotStores snapshotStores() {
    return snapshotStores;
  }

  @Override
  public List<ColdBootstrap.Status> bootstraps() {
    return coldBootstrap == null ? List.of() : coldBootstrap.statuses();
  }

  private PeerSnapshotFetcher fetcher(String secret) {
    return new PeerSnapshotFetcher(
        new PeerSnapshotFetcher.Settings(
            secret,
            config.bootstrapParallelism(),
            config.bootstrapThrottleBytesPerSecond(),
            config.bootstrapRequestTimeout(),
            3),
        config.httpTls().map(HttpTlsSetup::clientContext));
  }

  private ColdBootstrap coldBootstrap(String secret) {
    PeerSnapshotFetcher fetcher = fetcher(secret);
    RoutingBootstrapSource source =
        new RoutingBootstrapSource(
            config.nodeId(),
            this::routingOfApplication,
            this::bootstrapAdmin,
            fetcher,
            config.bootstrapMinLagRecords(),
            config.bootstrapEstimate(),
            config.bootstrapMaxSourceLagRecords(),
            retention.archiveCopies());
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
    preps.values().forEach(GenerationPrep::cancel);
    // A clean stop archives what it committed last: a cluster that then stays down longer than
    // its changelogs' retention still loses nothing (docs/retention.md).
    retention.archiveBeforeClose(allRunningStages().stream().map(RunningStage::streams).toList());
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
    for (Map<Integer, Generation> others : otherGenerations.values()) {
      for (Generation other : others.values()) {
        closeStreams(other.stage().name() + " g" + other.generation(), other.stage().streams());
        if (other.routing() != null) {
          try {
            other.routing().announceLeft();
          } finally {
            other.routing().close();
          }
        }
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
        try {
          retention.close();
        } finally {
          lender.close();
          closeBootstrap();
        }
      }
    }
    log.info("Node {} closed", config.nodeId());
  }

  private void closeStreams(String label, KafkaStreams streams) {
    try {
      CloseOptions leave =
          CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
              .withTimeout(STAGE_CLOSE_TIMEOUT);
      if (!streams.close(leave)) {
        log.warn(
            "Node {} stage {} did not close within {}; moving on",
            config.nodeId(),
            label,
            STAGE_CLOSE_TIMEOUT);
      }
    } catch (RuntimeException e) {
      log.warn("Node {} stage {} failed to close", config.nodeId(), label, e);
    }
  }

  private Optional<RoutingCache> routingOfApplication(String applicationId) {
    for (NodeRouting r : routing.values()) {
      if (r.cache().applicationId().equals(applicationId)) {
        return Optional.of(r.cache());
      }
    }
    for (Map<Integer, Generation> others : otherGenerations.values()) {
      for (Generation g : others.values()) {
        if (g.routing() != null && g.routing().cache().applicationId().equals(applicationId)) {
          return Optional.of(g.routing().cache());
        }
      }
    }
    return Optional.empty();
  }

  // ---- Stage control for a rescale (internal endpoints, cluster secret) ----

  /**
   * Pauses a stage on this node: closes its Kafka Streams instance, which commits what it processed
   * (under exactly-once its last transaction) and leaves its group. Idempotent.
   *
   * @throws IllegalArgumentException for an unknown stage
   */
  public synchronized void pauseStage(String stageName) {
    requireStarted();
    requireStage(stageName);
    if (!paused.add(stageName)) {
      return;
    }
    RunningStage r = running.remove(stageName);
    servingGenerations.remove(stageName);
    if (r != null) {
      metrics.unbindStage(stageName);
      closeStreams(stageName, r.streams());
    }
    log.info("Node {} paused stage {}", config.nodeId(), stageName);
  }

  /**
   * Starts a paused stage again, as a new Kafka Streams instance of the same topology; it goes on
   * from its committed offsets. Idempotent.
   */
  public synchronized void resumeStage(String stageName) {
    requireStarted();
    StreamsStage stage = requireStage(stageName);
    if (!paused.contains(stageName)) {
      return;
    }
    serve(stageName, launchCurrent(stage, http.endpoint()));
    paused.remove(stageName);
    log.info("Node {} resumed stage {}", config.nodeId(), stageName);
  }

  /**
   * Starts generation {@code generation} of a keyed stage beside the serving one (its stores
   * bootstrap from the rescale's staged snapshots); queries keep going to the serving one.
   * Idempotent.
   */
  public synchronized void startGeneration(String stageName, int generation) {
    requireStarted();
    KeyedStageHandle k = requireKeyed(stageName);
    if (servingGeneration.get(stageName) == generation
        || otherGenerations.getOrDefault(stageName, Map.of()).containsKey(generation)) {
      return;
    }
    Generation started = launch(k.forGeneration().apply(generation), http.endpoint(), generation);
    otherGenerations
        .computeIfAbsent(stageName, n -> new ConcurrentHashMap<>())
        .put(generation, started);
    log.info("Node {} started stage {} generation {}", config.nodeId(), stageName, generation);
  }

  /**
   * Makes generation {@code generation} of a keyed stage the one that serves queries (and the one
   * its feeder writes to once resumed); the previous one keeps running until {@link
   * #stopGeneration}. Idempotent.
   *
   * @throws IllegalStateException if that generation does not run here
   */
  public synchronized void serveGeneration(String stageName, int generation) {
    requireStarted();
    KeyedStageHandle k = requireKeyed(stageName);
    Integer current = servingGeneration.get(stageName);
    if (current != null && current == generation) {
      k.setGeneration().accept(generation);
      return;
    }
    Map<Integer, Generation> others =
        otherGenerations.computeIfAbsent(stageName, n -> new ConcurrentHashMap<>());
    Generation next = others.remove(generation);
    if (next == null) {
      throw new IllegalStateException(
          "stage " + stageName + " does not run generation " + generation + " on this node");
    }
    Generation previous = servingGenerations.get(stageName);
    if (previous != null) {
      others.put(previous.generation(), previous);
    }
    serve(stageName, next);
    k.setGeneration().accept(generation);
    log.info(
        "Node {} serves stage {} from generation {} (was {})",
        config.nodeId(),
        stageName,
        generation,
        current);
  }

  /** Stops a generation of a keyed stage that does not serve. Idempotent. */
  public synchronized void stopGeneration(String stageName, int generation) {
    requireStarted();
    requireKeyed(stageName);
    Integer current = servingGeneration.get(stageName);
    if (current != null && current == generation) {
      throw new IllegalStateException(
          "stage " + stageName + " serves generation " + generation + "; it cannot be stopped");
    }
    Map<Integer, Generation> others = otherGenerations.get(stageName);
    Generation other = others == null ? null : others.remove(generation);
    if (other == null) {
      return; // never started here (or the node restarted since): nothing to stop
    }
    closeStreams(stageName + " g" + generation, other.stage().streams());
    if (other.routing() != null) {
      try {
        other.routing().announceLeft();
      } finally {
        other.routing().close();
      }
    }
    log.info("Node {} stopped stage {} generation {}", config.nodeId(), stageName, generation);
  }

  /** The data step of a rescale running (or done) on this node, by stage and new generation. */
  private final Map<String, GenerationPrep> preps = new ConcurrentHashMap<>();

  /**
   * Starts building generation {@code generation}'s first states of {@code store} here ({@link
   * GenerationPrep}), unless the same preparation runs or is done already; answers its status.
   *
   * @throws IllegalArgumentException for an unknown or not keyed stage, or a store it lacks
   * @throws IllegalStateException without a cluster secret, or if generation {@code generation - 1}
   *     does not run here
   */
  public synchronized GenerationPrep.Status prepareGeneration(
      String stageName,
      int generation,
      String store,
      int partitions,
      Map<Integer, Long> minOffsets,
      Duration patience) {
    requireStarted();
    KeyedStageHandle k = requireKeyed(stageName);
    if (generation < 1) {
      throw new IllegalArgumentException("a rescale prepares generation 1 or later");
    }
    RoutingCache old =
        routing(stageName, generation - 1)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "generation "
                            + (generation - 1)
                            + " of stage "
                            + stageName
                            + " does not run on this node"));
    RunningStage serving = running.get(stageName);
    java.util.OptionalInt subtopology =
        serving == null ? java.util.OptionalInt.empty() : serving.topology().subtopologyOf(store);
    if (subtopology.isEmpty()) {
      throw new IllegalArgumentException("stage '" + stageName + "' has no store '" + store + "'");
    }
    String key = stageName + "/" + generation;
    GenerationPrep.Request request =
        new GenerationPrep.Request(
            stageName,
            k.applicationId(),
            generation - 1,
            partitions,
            store,
            subtopology.getAsInt(),
            byTask(subtopology.getAsInt(), minOffsets),
            patience);
    GenerationPrep existing = preps.get(key);
    if (existing != null
        && existing.request().toPartitions() == partitions
        && existing.request().store().equals(store)
        && !existing.status().state().equals("FAILED")) {
      return existing.status();
    }
    dropStaged(stageName, generation);
    PeerSnapshotFetcher fetcher =
        config
            .clusterSecret()
            .map(this::fetcher)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "node "
                            + config.nodeId()
                            + " has no "
                            + BackboneConfig.CLUSTER_SECRET_CONFIG
                            + "; a rescale copies snapshots between nodes and needs it"));
    GenerationPrep prep =
        new GenerationPrep(request, rescaleWorkDir(k, generation), fetcher, old, lender);
    preps.put(key, prep);
    prep.start();
    return prep.status();
  }

  private static Map<org.apache.kafka.streams.processor.TaskId, Long> byTask(
      int subtopology, Map<Integer, Long> byPartition) {
    Map<org.apache.kafka.streams.processor.TaskId, Long> out = new java.util.HashMap<>();
    byPartition.forEach(
        (p, o) -> out.put(new org.apache.kafka.streams.processor.TaskId(subtopology, p), o));
    return out;
  }

  /** The status of a preparation started here, if any. */
  public Optional<GenerationPrep.Status> prepStatus(String stageName, int generation) {
    return Optional.ofNullable(preps.get(stageName + "/" + generation)).map(GenerationPrep::status);
  }

  /** Cancels a preparation and drops what it staged. Idempotent. */
  public synchronized void dropStaged(String stageName, int generation) {
    KeyedStageHandle k = requireKeyed(stageName);
    GenerationPrep prep = preps.remove(stageName + "/" + generation);
    if (prep != null) {
      prep.cancel();
    }
    lender.unstage(
        dev.backbone.server.KeyedStateStage.applicationId(k.applicationId(), generation));
    Exception failed =
        dev.backbone.bootstrap.internals.Directories.deleteRecursively(
            rescaleWorkDir(k, generation));
    if (failed != null) {
      log.warn(
          "could not delete the rescale work of {} generation {}", stageName, generation, failed);
    }
  }

  private java.nio.file.Path rescaleWorkDir(KeyedStageHandle k, int generation) {
    Object stateDir = nodeProperties.get(StreamsConfig.STATE_DIR_CONFIG);
    java.nio.file.Path base =
        java.nio.file.Path.of(
            stateDir == null
                ? System.getProperty("java.io.tmpdir") + "/kafka-streams"
                : stateDir.toString());
    return base.resolve("backbone-rescale")
        .resolve(dev.backbone.server.KeyedStateStage.applicationId(k.applicationId(), generation));
  }

  /**
   * The {@code X-Backbone-State-Generation} value, rebuilt when a generation or the rescale
   * changes.
   */
  private volatile Optional<String> generationHeader = Optional.empty();

  private void updateGenerationHeader() {
    if (keyed.isEmpty()) {
      return;
    }
    RescaleState state = rescale;
    StringBuilder header = new StringBuilder();
    for (String name : keyed.keySet()) {
      if (header.length() > 0) {
        header.append(", ");
      }
      header.append(name).append('=').append(servingGeneration.getOrDefault(name, 0));
    }
    if (state.plan().isPresent() && !state.plan().get().step().ended()) {
      header.append("; rescale=").append(state.step());
    }
    generationHeader = Optional.of(header.toString());
  }

  @Override
  public Optional<String> generationHeader() {
    return generationHeader;
  }

  /** Records what the coordinator reported of the rescale (shown by {@code GET /v1/cluster}). */
  public void rescaleState(RescaleState state) {
    this.rescale = state;
    updateGenerationHeader();
  }

  @Override
  public RescaleState rescaleState() {
    return rescale;
  }

  /** A keyed stage's generations on this node: the serving one first, with their states. */
  @Override
  public Map<Integer, String> generations(String stageName) {
    Map<Integer, String> out = new java.util.LinkedHashMap<>();
    Integer serving = servingGeneration.get(stageName);
    if (serving == null) {
      return out;
    }
    out.put(serving, stageState(stageName));
    otherGenerations
        .getOrDefault(stageName, Map.of())
        .forEach((g, other) -> out.put(g, generationState(other.stage())));
    return out;
  }

  /**
   * A generation that does not serve yet, as the rescale waits for it: {@code RUNNING} only once
   * Kafka Streams runs and every store of every active task it has here has restored its changelog
   * in its current incarnation ({@link RestoreTracker}); {@code RESTORING} before that; else Kafka
   * Streams' state.
   */
  private static String generationState(RunningStage stage) {
    KafkaStreams streams = stage.streams();
    KafkaStreams.State state = streams.state();
    if (state != KafkaStreams.State.RUNNING) {
      return state.name();
    }
    for (org.apache.kafka.streams.ThreadMetadata thread : streams.metadataForLocalThreads()) {
      for (org.apache.kafka.streams.TaskMetadata task : thread.activeTasks()) {
        for (String store : stage.topology().storeNames()) {
          if (stage.topology().subtopologyOf(store).orElse(-1) != task.taskId().subtopology()) {
            continue;
          }
          RestoreTracker.Replica replica =
              stage.restores().replica(store, task.taskId().partition());
          if (replica == null || !replica.caughtUp()) {
            return "RESTORING";
          }
        }
      }
    }
    return state.name();
  }

  /**
   * Stops a generation of a keyed stage that does not serve, if it runs here, and starts it again:
   * its stores keep their local state and restore what their changelogs gained meanwhile (a
   * rescale's last records of the old generation). Idempotent in effect.
   *
   * @throws IllegalStateException if that generation serves
   */
  public synchronized void restartGeneration(String stageName, int generation) {
    stopGeneration(stageName, generation);
    startGeneration(stageName, generation);
  }

  /** The Kafka Streams instance of a keyed stage's generation, serving or not. */
  public Optional<KafkaStreams> streams(String stageName, int generation) {
    Integer serving = servingGeneration.get(stageName);
    if (serving != null && serving == generation) {
      return Optional.ofNullable(running.get(stageName)).map(RunningStage::streams);
    }
    return Optional.ofNullable(otherGenerations.getOrDefault(stageName, Map.of()).get(generation))
        .map(g -> g.stage().streams());
  }

  /** The routing view of a keyed stage's generation, serving or not. */
  public Optional<RoutingCache> routing(String stageName, int generation) {
    Integer serving = servingGeneration.get(stageName);
    if (serving != null && serving == generation) {
      return routing(stageName);
    }
    return Optional.ofNullable(otherGenerations.getOrDefault(stageName, Map.of()).get(generation))
        .flatMap(g -> Optional.ofNullable(g.routing()))
        .map(NodeRouting::cache);
  }

  /** The lender of this node's snapshots (a rescale stages the next generation's here). */
  public SnapshotLender lender() {
    return lender;
  }

  /**
   * The application id a stage runs under now: a keyed stage's serving generation's, another
   * stage's own (also while paused).
   */
  public String applicationIdOf(String stageName) {
    StreamsStage declared = requireStage(stageName);
    KeyedStageHandle k = keyed.get(stageName);
    if (k != null) {
      return dev.backbone.server.KeyedStateStage.applicationId(
          k.applicationId(), servingGeneration.getOrDefault(stageName, 0));
    }
    return StageProperties.applicationId(nodeProperties, declared).orElse("");
  }

  /** The state store names of a stage's topology. */
  public Set<String> storesOf(String stageName) {
    return topologies.get(requireStage(stageName).name()).storeNames();
  }

  /** The keyed stage of that name, if any. */
  public Optional<KeyedStageHandle> keyedStage(String stageName) {
    return Optional.ofNullable(keyed.get(stageName));
  }

  private void requireStarted() {
    if (phase != Phase.STARTED) {
      throw new IllegalStateException("node " + config.nodeId() + " is " + phase);
    }
  }

  private StreamsStage requireStage(String stageName) {
    return stages.stream()
        .filter(st -> st.name().equals(stageName))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "node " + config.nodeId() + " has no stage '" + stageName + "'"));
  }

  private KeyedStageHandle requireKeyed(String stageName) {
    requireStage(stageName);
    KeyedStageHandle k = keyed.get(stageName);
    if (k == null) {
      throw new IllegalArgumentException(
          "stage '" + stageName + "' of node " + config.nodeId() + " is not a keyed state stage");
    }
    return k;
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
      if (paused.contains(stage.name())) {
        continue; // a rescale paused it on purpose; the node still answers
      }
      RunningStage r = running.get(stage.name());
      if (r == null || r.streams().state() != KafkaStreams.State.RUNNING) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String stageState(String name) {
    if (paused.contains(name)) {
      return "PAUSED";
    }
    return stage(name).map(st -> st.streams().state().name()).orElse("NOT_STARTED");
  }
}
