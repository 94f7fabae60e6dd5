package dev.backbone.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.errors.BackboneException;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.rescale.ChangelogDelta;
import dev.backbone.rescale.Drain;
import dev.backbone.rescale.GenerationChangelogs;
import dev.backbone.rescale.RescaleLog;
import dev.backbone.rescale.RescalePlan;
import dev.backbone.rescale.RescalePlan.Step;
import dev.backbone.routing.RoutingTopics;
import dev.backbone.topics.WritableTopics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * The coordinator of one rescale of a keyed state stage (what {@code bin/backbone rescale} runs):
 * it drives every node through the steps of {@link RescalePlan}, recording each in the {@link
 * RescaleLog} before the next begins, so that {@link #resume} after a crash or Ctrl-C goes on from
 * the last recorded step and {@link #abort} rolls back (before {@code SERVING}).
 *
 * <p>The steps, and what makes each safe (docs/rescale.md has the argument in full). The bulk of
 * the work runs while ingest goes on; only the old generation's last records are moved inside the
 * pause:
 *
 * <ol>
 *   <li>{@code SNAPSHOTTED}, {@code SPLIT}: one node copies every old task's snapshot, splits them
 *       by the partitioner into the new task count and stages each new task's first state in its
 *       lender; the offsets the snapshots were at are recorded with the step.
 *   <li>{@code CREATED}: the new input topic and the new changelogs with their generation base
 *       ({@link GenerationChangelogs}), so an empty new store must copy a staged snapshot and never
 *       replays a changelog alone.
 *   <li>{@code STARTED}: every node runs the new generation beside the old one, its stores filled
 *       from the staged states; it has no input yet and serves no query.
 *   <li>{@code INGEST_PAUSED}: every node closes the feeder stage (committing its last
 *       transaction); the step completes only once the feeder's consumer group has no member, so no
 *       instance anywhere can still commit a write to the old generation (a transaction's offset
 *       commit is refused to a non-member, KIP-447).
 *   <li>{@code DRAINED}: the old generation's state stage processed every committed record of its
 *       input ({@link Drain}).
 *   <li>{@code CAUGHT_UP}: the new generation is stopped, every old changelog record after the
 *       recorded offsets is copied to the new changelog partition of its key ({@link
 *       ChangelogDelta}), and the new generation started again: its stores keep their state and
 *       restore those records like any changelog tail.
 *   <li>{@code SERVING}: once the new generation runs caught up on every node, every node serves
 *       queries from it. Until then queries are answered by the old generation, which holds the
 *       same data: nothing is written while the feeder is paused.
 *   <li>{@code RESUMED}: the feeder runs again on every node, writing to the new generation.
 *   <li>{@code CONFIRMED}: the old generation is stopped and its topics deleted.
 * </ol>
 */
public final class Rescaler implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET_HEADER = "X-Backbone-Cluster-Secret";
  private static final Duration POLL = Duration.ofMillis(50);

  /**
   * What the coordinator needs.
   *
   * @param seed any node's HTTP endpoint; the others are found in its {@code /v1/cluster}
   * @param clusterSecret the nodes' {@code backbone.cluster.secret}
   * @param token the API token when the nodes require one, else null
   * @param kafka client settings (bootstrap servers, security)
   * @param stage the keyed state stage's name on the nodes
   * @param replicationFactor of the new topics, or -1 for the brokers' default
   * @param stepTimeout how long one step may wait (drain, copies, the new generation to run)
   * @param applicationId the application the caller means to rescale, checked against the stage's;
   *     null takes the stage's
   */
  public record Settings(
      URI seed,
      String clusterSecret,
      String token,
      Map<String, Object> kafka,
      String stage,
      short replicationFactor,
      Duration stepTimeout,
      String applicationId) {
    /** Checks the settings. */
    public Settings {
      Objects.requireNonNull(seed, "seed");
      Objects.requireNonNull(clusterSecret, "clusterSecret");
      kafka = Map.copyOf(kafka);
      Objects.requireNonNull(stage, "stage");
      Objects.requireNonNull(stepTimeout, "stepTimeout");
    }
  }

  /** What the coordinator reports as it goes; called on its thread. */
  public interface Listener {
    /** A step began. */
    default void stepStarted(Step step, String what) {}

    /**
     * Progress within a step.
     *
     * @param done units done (bytes, records), -1 if unknown
     * @param total units in all, -1 if unknown
     * @param text what is being done
     */
    default void progress(Step step, long done, long total, String text) {}

    /** A step's work is done; it is recorded next (a crash here leaves it to be redone). */
    default void stepPerformed(Step step, String note) {}

    /** A step completed and was recorded. */
    default void stepDone(Step step, String note) {}
  }

  /**
   * What the last run moved and how long its steps took (for the benchmark and the CLI's summary).
   *
   * @param bytesCopied old snapshots copied to the builder
   * @param bytesBuilt the new generation's first states staged on it
   * @param keys keys split
   * @param deltaRecords old changelog records copied inside the pause ({@code CAUGHT_UP})
   * @param stepMillis each step's duration in this run, in order
   */
  public record Stats(
      long bytesCopied,
      long bytesBuilt,
      long keys,
      long deltaRecords,
      Map<Step, Long> stepMillis) {}

  /** One node as the coordinator addresses it. */
  private record Node(String id, URI endpoint) {}

  private final Settings settings;
  private final Listener listener;
  private final HttpClient http;
  private final Admin admin;
  private final String bootstrapServers;
  private final java.util.concurrent.ExecutorService fanOut =
      java.util.concurrent.Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "backbone-rescale-fan-out");
            t.setDaemon(true);
            return t;
          });

  /** The stage as the nodes describe it (base application id, feeder, store). */
  private String baseApplicationId;

  private String feeder;
  private String store;
  private long bytesCopied;
  private long bytesBuilt;
  private long keys;
  private long deltaRecords;

  /** The offsets the split reported, recorded with {@code SPLIT}. */
  private List<Long> splitBaseOffsets;

  private final Map<Step, Long> stepMillis = new java.util.EnumMap<>(Step.class);

  /** Opens admin and HTTP clients; nothing moves until {@link #start}, {@link #resume}. */
  public Rescaler(Settings settings, Listener listener) {
    this.settings = settings;
    this.listener = listener == null ? new Listener() {} : listener;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    this.admin = Admin.create(settings.kafka());
    Object servers = settings.kafka().get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    this.bootstrapServers = servers == null ? "" : servers.toString();
  }

  /**
   * Rescales the stage to {@code partitions} tasks, from planning to confirmation.
   *
   * @return the confirmed plan
   * @throws FatalBackboneException {@code RESCALE_INVALID} (fewer than 1 task or the current
   *     count), {@code RESCALE_RUNNING} (another rescale not ended), {@code RESCALE_UNHEALTHY} (a
   *     node down or not ready), {@code RESCALE_UNSUPPORTED} (a stage that is not keyed state, or
   *     holds more than one store)
   */
  public RescalePlan start(int partitions) throws InterruptedException {
    if (partitions < 1) {
      throw new FatalBackboneException(
          "RESCALE_INVALID", "a rescale needs at least 1 target partition, not " + partitions);
    }
    List<Node> nodes = nodes();
    describeStage(nodes);
    try (RescaleLog log = openLog()) {
      if (log.current().map(p -> p.step().ended()).orElse(true)) {
        // (A rescale that has not ended runs a second generation, which is no sickness: begin
        // below refuses it as RESCALE_RUNNING, naming --resume and --abort.)
        checkHealthy(nodes);
      }
      int generation = currentGeneration(log.current());
      int from = partitionCount(KeyedStateStage.inputTopic(baseApplicationId, generation));
      RescalePlan plan = log.begin(generation, from, partitions);
      listener.stepDone(Step.PLANNED, plan.log().get(plan.log().size() - 1));
      return run(log, plan, nodes);
    }
  }

  /** Goes on with the rescale that has not ended, from its last recorded step. */
  public RescalePlan resume() throws InterruptedException {
    List<Node> nodes = nodes();
    describeStage(nodes);
    try (RescaleLog log = openLog()) {
      RescalePlan plan = unended(log);
      return run(log, plan, nodes);
    }
  }

  /**
   * Rolls back the rescale that has not ended: the old generation serves and its feeder runs again,
   * the new generation's topics and staged states are deleted.
   *
   * @throws FatalBackboneException {@code RESCALE_INVALID} if the rescale reached {@code SERVING}
   *     (the feeder may have written to the new generation; resume it instead)
   */
  public RescalePlan abort() throws InterruptedException {
    List<Node> nodes = nodes();
    describeStage(nodes);
    try (RescaleLog log = openLog()) {
      RescalePlan plan = unended(log);
      if (plan.step().ordinal() >= Step.SERVING.ordinal()) {
        throw new FatalBackboneException(
            "RESCALE_INVALID",
            "the rescale of "
                + baseApplicationId
                + " reached "
                + plan.step()
                + ": the next generation may have taken writes, so it cannot be rolled back;"
                + " resume it (--resume)");
      }
      int next = plan.toGeneration();
      listener.stepStarted(Step.ABORTED, "rolling back generation " + next);
      for (Node node : nodes) {
        post(
            node,
            "/internal/v1/stages/"
                + settings.stage()
                + "/generations/"
                + plan.fromGeneration()
                + "/serve");
        post(node, "/internal/v1/stages/" + settings.stage() + "/generations/" + next + "/stop");
        delete(
            node, "/internal/v1/stages/" + settings.stage() + "/generations/" + next + "/staged");
      }
      deleteGeneration(next);
      for (Node node : nodes) {
        post(node, "/internal/v1/stages/" + feeder + "/resume");
      }
      RescalePlan aborted =
          log.advance(Step.ABORTED, "rolled back to generation " + plan.fromGeneration());
      report(nodes, aborted, "");
      listener.stepDone(Step.ABORTED, "");
      return aborted;
    }
  }

  private RescalePlan unended(RescaleLog log) {
    return log.current()
        .filter(p -> !p.step().ended())
        .orElseThrow(
            () ->
                new FatalBackboneException(
                    "RESCALE_INVALID", "no rescale of " + baseApplicationId + " is running"));
  }

  private RescaleLog openLog() {
    return RescaleLog.open(
        admin,
        settings.kafka(),
        baseApplicationId,
        settings.replicationFactor(),
        Clock.systemUTC());
  }

  /** The generation that serves now, from the log's last plan. */
  private static int currentGeneration(Optional<RescalePlan> last) {
    if (last.isEmpty()) {
      return 0;
    }
    RescalePlan p = last.get();
    return p.step() == Step.CONFIRMED ? p.toGeneration() : p.fromGeneration();
  }

  private RescalePlan run(RescaleLog log, RescalePlan plan, List<Node> nodes)
      throws InterruptedException {
    report(nodes, plan, "");
    while (!plan.step().ended()) {
      Step next = Step.values()[plan.step().ordinal() + 1];
      listener.stepStarted(next, describe(next, plan));
      long started = System.nanoTime();
      String note = perform(next, plan, nodes);
      stepMillis.put(next, (System.nanoTime() - started) / 1_000_000);
      listener.stepPerformed(next, note);
      plan = log.advance(next, note, next == Step.SPLIT ? splitBaseOffsets : null);
      report(nodes, plan, "");
      listener.stepDone(next, note);
    }
    return plan;
  }

  private static String describe(Step step, RescalePlan plan) {
    return switch (step) {
      case SNAPSHOTTED -> "copying " + plan.fromPartitions() + " task snapshots (ingest runs on)";
      case SPLIT -> "splitting into " + plan.toPartitions() + " tasks";
      case CREATED -> "creating generation " + plan.toGeneration() + "'s topics";
      case STARTED -> "starting generation " + plan.toGeneration() + " on every node";
      case INGEST_PAUSED -> "pausing the feeder on every node";
      case DRAINED -> "waiting for generation " + plan.fromGeneration() + " to process its input";
      case CAUGHT_UP ->
          "copying generation "
              + plan.fromGeneration()
              + "'s last records to generation "
              + plan.toGeneration();
      case SERVING -> "serving queries from generation " + plan.toGeneration();
      case RESUMED -> "resuming the feeder";
      case CONFIRMED -> "stopping generation " + plan.fromGeneration() + ", deleting its topics";
      default -> step.name();
    };
  }

  private String perform(Step step, RescalePlan plan, List<Node> nodes)
      throws InterruptedException {
    String stage = settings.stage();
    int from = plan.fromGeneration();
    int to = plan.toGeneration();
    switch (step) {
      case SNAPSHOTTED -> {
        Node builder = builder(nodes);
        prepare(plan, builder);
        JsonNode done =
            awaitPrep(step, plan, nodes, builder, to, "SPLITTING", "BUILDING", "STAGED");
        return "copied " + done.path("bytesCopied").asLong() + " bytes to " + builder.id();
      }
      case SPLIT -> {
        Node builder = builder(nodes);
        if (prepFailed(builder, to)) {
          prepare(plan, builder); // a resume after a failure starts it again
        }
        JsonNode done = awaitPrep(step, plan, nodes, builder, to, "STAGED");
        List<Long> base = new ArrayList<>();
        done.path("baseOffsets").forEach(o -> base.add(o.asLong()));
        if (base.size() != plan.fromPartitions()) {
          throw new RetriableBackboneException(
              "RESCALE_PREPARATION_FAILED",
              builder.id() + " reported no snapshot offsets for every old task: " + done);
        }
        // A redone split after a crash keeps the offsets recorded first: states built from them
        // may already be installed, and copying from lower offsets is always safe (ChangelogDelta).
        splitBaseOffsets = plan.baseOffsets().isEmpty() ? base : plan.baseOffsets();
        return done.path("keys").asLong()
            + " keys into "
            + plan.toPartitions()
            + " tasks, "
            + done.path("bytesBuilt").asLong()
            + " bytes staged on "
            + builder.id()
            + ", built at old changelog offsets "
            + splitBaseOffsets;
      }
      case CREATED -> {
        String input = KeyedStateStage.inputTopic(baseApplicationId, to);
        new WritableTopics(admin)
            .create(
                List.of(
                    new NewTopic(
                        input,
                        Optional.of(plan.toPartitions()),
                        settings.replicationFactor() < 0
                            ? Optional.empty()
                            : Optional.of(settings.replicationFactor()))));
        int actual = partitionCount(input);
        if (actual != plan.toPartitions()) {
          throw new FatalBackboneException(
              "RESCALE_TOPICS_UNAVAILABLE",
              input
                  + " exists with "
                  + actual
                  + " partitions, not "
                  + plan.toPartitions()
                  + "; abort and retry");
        }
        String changelog =
            KeyedStateStage.applicationId(baseApplicationId, to) + "-" + store + "-changelog";
        GenerationChangelogs.create(
            admin, settings.kafka(), changelog, plan.toPartitions(), settings.replicationFactor());
        // The new generation's routing topics, writable before its nodes start (each node would
        // otherwise create them and wait for their leaders inside SERVING).
        String app = KeyedStateStage.applicationId(baseApplicationId, to);
        Map<String, String> compact =
            Map.of(
                org.apache.kafka.common.config.TopicConfig.CLEANUP_POLICY_CONFIG,
                org.apache.kafka.common.config.TopicConfig.CLEANUP_POLICY_COMPACT,
                org.apache.kafka.common.config.TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG,
                "0");
        List<NewTopic> routingTopics = new ArrayList<>();
        for (String topic :
            List.of(RoutingTopics.membersTopic(app), RoutingTopics.routingTopic(app))) {
          routingTopics.add(
              new NewTopic(
                      topic,
                      Optional.of(1),
                      settings.replicationFactor() < 0
                          ? Optional.empty()
                          : Optional.of(settings.replicationFactor()))
                  .configs(compact));
        }
        new WritableTopics(admin).create(routingTopics);
        return input + " and " + changelog + " with " + plan.toPartitions() + " partitions";
      }
      case STARTED -> {
        ensureStaged(step, plan, nodes);
        postAll(nodes, generationPath(to) + "/start");
        awaitGenerationRunning(step, nodes, to);
        return "generation " + to + " runs on " + nodes.size() + " nodes";
      }
      case INGEST_PAUSED -> {
        String group = null;
        for (JsonNode answer : postAll(nodes, "/internal/v1/stages/" + feeder + "/pause")) {
          group = answer.path("applicationId").asText(group);
        }
        String feederGroup = group;
        awaitCondition(
            step,
            () -> {
              List<String> members = groupMembers(feederGroup);
              if (members.isEmpty()) {
                return null;
              }
              // A node that restarted since it was asked runs its feeder again: ask every node
              // once more (idempotent).
              postAll(nodes, "/internal/v1/stages/" + feeder + "/pause");
              return "feeder group " + feederGroup + " still has " + members;
            });
        return "feeder group " + feederGroup + " has no member";
      }
      case DRAINED -> {
        String group = KeyedStateStage.applicationId(baseApplicationId, from);
        String topic = KeyedStateStage.inputTopic(baseApplicationId, from);
        awaitCondition(
            step,
            () -> {
              try {
                Drain.State state =
                    Drain.check(admin, bootstrapServers, group, topic, Duration.ofSeconds(30));
                listener.progress(step, -1, -1, state.remaining() + " records left");
                return state.drained()
                    ? null
                    : state.remaining() + " records of " + topic + " unprocessed";
              } catch (TimeoutException e) {
                return "the brokers did not answer: " + e.getMessage();
              }
            });
        return topic + " processed to its end by " + group;
      }
      case CAUGHT_UP -> {
        // Stopped first, so that no store of the new generation is open while its changelog gains
        // records it did not write; started again, each store restores them as a changelog tail.
        postAll(nodes, generationPath(to) + "/stop");
        ChangelogDelta.Result delta =
            ChangelogDelta.copy(
                admin,
                settings.kafka(),
                KeyedStateStage.applicationId(baseApplicationId, from) + "-" + store + "-changelog",
                plan.baseOffsets(),
                KeyedStateStage.applicationId(baseApplicationId, to) + "-" + store + "-changelog",
                plan.toPartitions(),
                settings.stepTimeout());
        deltaRecords += delta.records();
        listener.progress(step, -1, -1, delta.records() + " records copied, restoring them");
        ensureStaged(step, plan, nodes);
        postAll(nodes, generationPath(to) + "/start");
        awaitGenerationRunning(step, nodes, to);
        return delta.records()
            + " records ("
            + delta.bytes()
            + " bytes) of generation "
            + from
            + " copied and restored by generation "
            + to;
      }
      case SERVING -> {
        ensureStaged(step, plan, nodes);
        postAll(nodes, generationPath(to) + "/start"); // a node restarted since CAUGHT_UP
        awaitGenerationRunning(step, nodes, to);
        postAll(nodes, generationPath(to) + "/serve");
        return "generation " + to + " serves on " + nodes.size() + " nodes";
      }
      case RESUMED -> {
        postAll(nodes, "/internal/v1/stages/" + feeder + "/resume");
        return "feeder resumed on " + nodes.size() + " nodes";
      }
      case CONFIRMED -> {
        postAll(nodes, "/internal/v1/stages/" + stage + "/generations/" + from + "/stop");
        for (Node node : nodes) {
          delete(node, "/internal/v1/stages/" + stage + "/generations/" + to + "/staged");
        }
        List<String> deleted = deleteGeneration(from);
        return "deleted " + deleted;
      }
      default -> throw new IllegalStateException("no step " + step);
    }
  }

  private String generationPath(int generation) {
    return "/internal/v1/stages/" + settings.stage() + "/generations/" + generation;
  }

  /**
   * Waits until {@code generation} runs on every node with every active store restored ({@code
   * RUNNING} in the node's generations, see {@code NodeRuntime#generations}).
   */
  private void awaitGenerationRunning(Step step, List<Node> nodes, int generation)
      throws InterruptedException {
    awaitCondition(
        step,
        () -> {
          List<String> waiting = new ArrayList<>();
          for (Node node : nodes) {
            JsonNode g = get(node, "/internal/v1/stages/" + settings.stage() + "/generations");
            String state =
                g.path("generations").path(Integer.toString(generation)).asText("ABSENT");
            if (!state.equals("RUNNING")) {
              waiting.add(node.id() + " " + state);
            }
          }
          listener.progress(
              step,
              nodes.size() - waiting.size(),
              nodes.size(),
              "nodes running generation " + generation);
          return waiting.isEmpty()
              ? null
              : "generation " + generation + " not running caught up on " + waiting;
        });
  }

  /** Whether the builder's preparation failed (it is started again; absent is handled later). */
  private boolean prepFailed(Node builder, int to) {
    try {
      return get(
              builder,
              "/internal/v1/stages/" + settings.stage() + "/generations/" + to + "/prepare")
          .path("state")
          .asText()
          .equals("FAILED");
    } catch (FatalBackboneException e) {
      return false; // NOT_FOUND: awaitPrep prepares again
    }
  }

  /** Asks the builder to prepare the next generation (idempotent while it runs or is done). */
  private void prepare(RescalePlan plan, Node builder) throws InterruptedException {
    // A first preparation copies each task's snapshot as it is; one made again after the offsets
    // were recorded must reach them, or the records between would be copied by nobody.
    Map<String, Long> minOffsets = new TreeMap<>();
    for (int p = 0; p < plan.baseOffsets().size(); p++) {
      minOffsets.put(Integer.toString(p), plan.baseOffsets().get(p));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("store", store);
    body.put("partitions", plan.toPartitions());
    body.put("minOffsets", minOffsets);
    body.put("patienceMs", settings.stepTimeout().toMillis());
    post(
        builder,
        "/internal/v1/stages/"
            + settings.stage()
            + "/generations/"
            + plan.toGeneration()
            + "/prepare",
        body);
  }

  /**
   * Before the new generation starts: the builder must still lend its staged states (a builder that
   * restarted since the split lost them; the old generation is drained and paused, so preparing
   * again gives the same states).
   */
  private void ensureStaged(Step step, RescalePlan plan, List<Node> nodes)
      throws InterruptedException {
    Node builder = builder(nodes);
    String path =
        "/internal/v1/stages/"
            + settings.stage()
            + "/generations/"
            + plan.toGeneration()
            + "/prepare";
    boolean staged;
    try {
      staged = get(builder, path).path("phase").asText().equals("STAGED");
    } catch (FatalBackboneException e) {
      staged = false;
    }
    if (!staged) {
      listener.progress(
          step, -1, -1, "staging generation " + plan.toGeneration() + " again on " + builder.id());
      prepare(plan, builder);
      awaitPrep(step, plan, nodes, builder, plan.toGeneration(), "STAGED");
    }
  }

  /** Polls the builder's preparation until it reaches one of {@code phases}. */
  private JsonNode awaitPrep(
      Step step, RescalePlan plan, List<Node> nodes, Node builder, int to, String... phases)
      throws InterruptedException {
    JsonNode[] last = new JsonNode[1];
    awaitCondition(
        step,
        () -> {
          JsonNode status;
          try {
            status =
                get(
                    builder,
                    "/internal/v1/stages/" + settings.stage() + "/generations/" + to + "/prepare");
          } catch (FatalBackboneException e) {
            if (e.code().equals("NOT_FOUND")) {
              // The builder restarted and lost the job: start it again (the old generation is
              // drained and paused, so the same states come out).
              prepare(plan, builder);
              return builder.id() + " restarted; preparing again";
            }
            throw e;
          }
          last[0] = status;
          bytesCopied = Math.max(bytesCopied, status.path("bytesCopied").asLong());
          bytesBuilt = Math.max(bytesBuilt, status.path("bytesBuilt").asLong());
          keys = Math.max(keys, status.path("keys").asLong());
          if (status.path("state").asText().equals("FAILED")) {
            throw new RetriableBackboneException(
                "RESCALE_STEP_FAILED",
                "preparing generation "
                    + to
                    + " on "
                    + builder.id()
                    + " failed: "
                    + status.path("error").asText()
                    + "; resume the rescale to retry");
          }
          String phase = status.path("phase").asText();
          listener.progress(
              step,
              status.path("bytesCopied").asLong() + status.path("bytesBuilt").asLong(),
              -1,
              phase.toLowerCase(java.util.Locale.ROOT)
                  + ", "
                  + status.path("keys").asLong()
                  + " keys");
          for (String p : phases) {
            if (p.equals(phase)) {
              return null;
            }
          }
          return builder.id() + " is " + phase;
        });
    return last[0];
  }

  /** A condition that answers null when met, else what it waits for. */
  private interface Condition {
    String check() throws InterruptedException;
  }

  private void awaitCondition(Step step, Condition condition) throws InterruptedException {
    long deadline = System.nanoTime() + settings.stepTimeout().toNanos();
    String waiting;
    while ((waiting = condition.check()) != null) {
      if (System.nanoTime() > deadline) {
        throw new RetriableBackboneException(
            "RESCALE_STEP_TIMEOUT",
            "step "
                + step
                + " did not complete within "
                + settings.stepTimeout().toSeconds()
                + " s: "
                + waiting
                + ". Nothing was lost; resume (--resume) or roll back (--abort).");
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  /** The builder of the new generation's states: the first node by id (stable across resumes). */
  private static Node builder(List<Node> nodes) {
    return nodes.get(0);
  }

  private List<String> deleteGeneration(int generation) throws InterruptedException {
    String app = KeyedStateStage.applicationId(baseApplicationId, generation);
    List<String> topics =
        List.of(
            KeyedStateStage.inputTopic(baseApplicationId, generation),
            app + "-" + store + "-changelog",
            RoutingTopics.routingTopic(app),
            RoutingTopics.membersTopic(app));
    List<String> deleted = new ArrayList<>();
    for (String topic : topics) {
      try {
        admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
        deleted.add(topic);
        awaitGone(topic);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw new RetriableBackboneException(
              "RESCALE_TOPICS_UNAVAILABLE", "could not delete " + topic + ": " + e.getCause(), e);
        }
      } catch (TimeoutException e) {
        throw new RetriableBackboneException(
            "RESCALE_TOPICS_UNAVAILABLE", "could not delete " + topic + " in time", e);
      }
    }
    try {
      admin.deleteConsumerGroups(List.of(app)).all().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof GroupIdNotFoundException)) {
        throw new RetriableBackboneException(
            "RESCALE_TOPICS_UNAVAILABLE", "could not delete group " + app + ": " + e.getCause(), e);
      }
    } catch (TimeoutException e) {
      throw new RetriableBackboneException(
          "RESCALE_TOPICS_UNAVAILABLE", "could not delete group " + app + " in time", e);
    }
    return deleted;
  }

  /** Waits until the brokers no longer list {@code topic} (a rescale may create it again next). */
  private void awaitGone(String topic) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (!admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic)) {
          return;
        }
      } catch (ExecutionException | TimeoutException e) {
        // asked again below
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  private List<String> groupMembers(String group) throws InterruptedException {
    try {
      ConsumerGroupDescription d =
          admin
              .describeConsumerGroups(List.of(group))
              .describedGroups()
              .get(group)
              .get(30, TimeUnit.SECONDS);
      return d.members().stream().map(m -> m.clientId() + "@" + m.host()).toList();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return List.of();
      }
      return List.of("(not described: " + e.getCause() + ")");
    } catch (TimeoutException e) {
      return List.of("(not described in time)");
    }
  }

  private int partitionCount(String topic) throws InterruptedException {
    try {
      return admin
          .describeTopics(List.of(topic))
          .allTopicNames()
          .get(30, TimeUnit.SECONDS)
          .get(topic)
          .partitions()
          .size();
    } catch (ExecutionException | TimeoutException e) {
      throw new RetriableBackboneException(
          "KAFKA_UNAVAILABLE", "could not describe " + topic + ": " + e, e);
    }
  }

  /** The nodes of the cluster, from the seed's {@code /v1/cluster}, ordered by id. */
  private List<Node> nodes() {
    JsonNode cluster =
        send(
            HttpRequest.newBuilder(settings.seed().resolve("/v1/cluster")).GET(),
            "GET /v1/cluster",
            settings.seed().toString());
    Map<String, Node> nodes = new TreeMap<>();
    List<String> down = new ArrayList<>();
    for (JsonNode n : cluster.path("nodes")) {
      String id = n.path("id").asText();
      String endpoint = n.path("endpoint").asText("");
      String state = n.path("state").asText("");
      if (state.equals("LEFT")) {
        continue; // left the cluster on purpose: not a member any more
      }
      if (!state.equals("UP") || endpoint.isBlank()) {
        down.add(id + " (" + state + ")");
        continue;
      }
      nodes.put(id, new Node(id, URI.create(settings.seed().getScheme() + "://" + endpoint)));
    }
    if (!down.isEmpty()) {
      throw new FatalBackboneException(
          "RESCALE_UNHEALTHY",
          "nodes "
              + down
              + " are not up; a rescale needs every node of the cluster (start them, or wait until they left)");
    }
    if (nodes.isEmpty()) {
      throw new FatalBackboneException(
          "RESCALE_UNHEALTHY", "the cluster at " + settings.seed() + " lists no node");
    }
    return List.copyOf(nodes.values());
  }

  /** Reads the stage's names from a node and refuses a stage that cannot be rescaled. */
  private void describeStage(List<Node> nodes) {
    JsonNode g = get(nodes.get(0), "/internal/v1/stages/" + settings.stage() + "/generations");
    if (g.path("baseApplicationId").isMissingNode()) {
      throw new FatalBackboneException(
          "RESCALE_UNSUPPORTED",
          "stage '"
              + settings.stage()
              + "' is not a keyed state stage (KeyedStateStage); only those can be rescaled");
    }
    baseApplicationId = g.path("baseApplicationId").asText();
    if (settings.applicationId() != null && !settings.applicationId().equals(baseApplicationId)) {
      throw new FatalBackboneException(
          "RESCALE_INVALID",
          "stage '"
              + settings.stage()
              + "' at "
              + settings.seed()
              + " runs application "
              + baseApplicationId
              + ", not "
              + settings.applicationId());
    }
    feeder = g.path("feeder").asText();
    List<String> stores = new ArrayList<>();
    g.path("stores").forEach(s -> stores.add(s.asText()));
    if (stores.size() != 1) {
      throw new FatalBackboneException(
          "RESCALE_UNSUPPORTED",
          "stage '"
              + settings.stage()
              + "' holds stores "
              + stores
              + "; a rescale moves exactly one store per keyed stage today");
    }
    store = stores.get(0);
  }

  /**
   * Refuses a cluster that is not healthy: a node whose stage does not run, or runs two generations
   * (a rescale's leftovers). A stage that is only rebalancing gets up to a minute.
   */
  private void checkHealthy(List<Node> nodes) throws InterruptedException {
    long deadline =
        System.nanoTime()
            + Math.min(settings.stepTimeout().toNanos(), Duration.ofMinutes(1).toNanos());
    List<String> problems;
    do {
      problems = new ArrayList<>();
      for (Node node : nodes) {
        JsonNode g = get(node, "/internal/v1/stages/" + settings.stage() + "/generations");
        if (!g.path("state").asText().equals("RUNNING")) {
          problems.add(node.id() + " runs the stage " + g.path("state").asText());
        }
        if (g.path("generations").size() > 1) {
          problems.add(node.id() + " runs generations " + g.path("generations"));
        }
      }
      if (problems.isEmpty()) {
        return;
      }
      Thread.sleep(POLL.toMillis());
    } while (System.nanoTime() < deadline);
    throw new FatalBackboneException(
        "RESCALE_UNHEALTHY",
        "the application is not healthy: " + problems + "; rescale once every node runs");
  }

  private void report(Collection<Node> nodes, RescalePlan plan, String progress) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("plan", plan);
    body.put("progress", progress);
    for (Node node : nodes) {
      try {
        send(
            authorized(
                    HttpRequest.newBuilder(
                        node.endpoint()
                            .resolve("/internal/v1/stages/" + settings.stage() + "/rescale")))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
                .header("Content-Type", "application/json"),
            "PUT rescale state",
            node.id());
      } catch (IOException | BackboneException e) {
        // Only what /v1/cluster shows; the log is the truth.
      }
    }
  }

  /** POSTs to every node at once; all are tried, the first failure is thrown. */
  private List<JsonNode> postAll(List<Node> nodes, String path) {
    List<java.util.concurrent.CompletableFuture<JsonNode>> calls = new ArrayList<>();
    for (Node node : nodes) {
      calls.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> post(node, path), fanOut));
    }
    List<JsonNode> answers = new ArrayList<>();
    RuntimeException first = null;
    for (java.util.concurrent.CompletableFuture<JsonNode> call : calls) {
      try {
        answers.add(call.join());
      } catch (java.util.concurrent.CompletionException e) {
        if (first == null) {
          first = e.getCause() instanceof RuntimeException re ? re : e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
    return answers;
  }

  private JsonNode get(Node node, String path) {
    return send(
        authorized(HttpRequest.newBuilder(node.endpoint().resolve(path))).GET(),
        "GET " + path,
        node.id());
  }

  private JsonNode post(Node node, String path) {
    return post(node, path, Map.of());
  }

  private JsonNode post(Node node, String path, Object body) {
    try {
      return send(
          authorized(HttpRequest.newBuilder(node.endpoint().resolve(path)))
              .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
              .header("Content-Type", "application/json"),
          "POST " + path,
          node.id());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private JsonNode delete(Node node, String path) {
    return send(
        authorized(HttpRequest.newBuilder(node.endpoint().resolve(path))).DELETE(),
        "DELETE " + path,
        node.id());
  }

  private HttpRequest.Builder authorized(HttpRequest.Builder builder) {
    builder.header(SECRET_HEADER, settings.clusterSecret());
    if (settings.token() != null && !settings.token().isBlank()) {
      builder.header("Authorization", "Bearer " + settings.token());
    }
    return builder.timeout(Duration.ofSeconds(60));
  }

  private JsonNode send(HttpRequest.Builder request, String what, String node) {
    HttpResponse<byte[]> response;
    try {
      if (settings.token() != null && !settings.token().isBlank()) {
        request.setHeader("Authorization", "Bearer " + settings.token());
      }
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new RetriableBackboneException(
          "RESCALE_NODE_UNREACHABLE",
          what + " on " + node + " failed: " + e + "; resume the rescale once it answers",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RetriableBackboneException("RESCALE_INTERRUPTED", what + " interrupted", e);
    }
    JsonNode body;
    try {
      body = response.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(response.body());
    } catch (IOException e) {
      body =
          JSON.createObjectNode()
              .put("message", new String(response.body(), StandardCharsets.UTF_8));
    }
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      return body;
    }
    String code = body.path("code").asText("HTTP_" + status);
    String message =
        what + " on " + node + ": " + status + " " + code + " " + body.path("message").asText("");
    if (status == 503) {
      throw new RetriableBackboneException(code, message);
    }
    throw new FatalBackboneException(code, message);
  }

  /** What this coordinator's runs moved so far, and their steps' durations. */
  public Stats stats() {
    return new Stats(bytesCopied, bytesBuilt, keys, deltaRecords, Map.copyOf(stepMillis));
  }

  @Override
  public void close() {
    fanOut.shutdownNow();
    admin.close(Duration.ofSeconds(5));
  }
}
