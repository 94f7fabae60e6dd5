package dev.backbone.server.internals;

import dev.backbone.bootstrap.PeerSnapshotFetcher;
import dev.backbone.bootstrap.SnapshotLender;
import dev.backbone.bootstrap.internals.Directories;
import dev.backbone.rescale.SnapshotCollector;
import dev.backbone.rescale.SnapshotSplit;
import dev.backbone.routing.Member;
import dev.backbone.routing.MemberState;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingTable;
import dev.backbone.server.KeyedStateStage;
import dev.backbone.store.Snapshot;
import dev.backbone.store.internals.BuiltSnapshots;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.TaskId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data step of a rescale on the node the coordinator chose: copy every task's snapshot of the
 * old generation (through the lending endpoints, each at least at its drained changelog offset),
 * split them by the partitioner into the new task count, build each new task's first state at the
 * new changelogs' generation base, and stage it in this node's lender, which lends it to whichever
 * node Kafka Streams gives the new task. Runs on its own thread; {@link #status} reports it.
 *
 * <p>The staged directory survives a node restart only as files: a restarted node does not lend
 * them again, and the coordinator's {@code --resume} redoes the step (it is idempotent: it starts
 * from an empty work directory).
 */
final class GenerationPrep {
  private static final Logger log = LoggerFactory.getLogger(GenerationPrep.class);

  /** What the coordinator asks for. */
  record Request(
      String stage,
      String baseApplicationId,
      int fromGeneration,
      int toPartitions,
      String store,
      int subtopology,
      Map<TaskId, Long> minOffsets,
      Duration patience) {
    int toGeneration() {
      return fromGeneration + 1;
    }
  }

  /** What the job did so far. */
  record Status(
      String state,
      String phase,
      long bytesCopied,
      long keys,
      long bytesBuilt,
      List<String> staged,
      String error,
      List<Long> baseOffsets) {}

  private final Request request;
  private final Path workDir;
  private final PeerSnapshotFetcher fetcher;
  private final RoutingCache oldRouting;
  private final SnapshotLender lender;
  private final AtomicReference<String> state = new AtomicReference<>("RUNNING");
  private final AtomicReference<String> phase = new AtomicReference<>("COPYING");
  private final AtomicReference<String> error = new AtomicReference<>(null);
  private final AtomicLong bytesCopied = new AtomicLong();
  private final AtomicLong keys = new AtomicLong();
  private final AtomicLong bytesBuilt = new AtomicLong();
  private final List<String> staged = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Per old partition, the changelog offset of the snapshot copied; set once all are copied. */
  private volatile List<Long> baseOffsets = List.of();

  private final Thread thread;

  GenerationPrep(
      Request request,
      Path workDir,
      PeerSnapshotFetcher fetcher,
      RoutingCache oldRouting,
      SnapshotLender lender) {
    this.request = request;
    this.workDir = workDir;
    this.fetcher = fetcher;
    this.oldRouting = oldRouting;
    this.lender = lender;
    this.thread = new Thread(this::run, "backbone-rescale-prep-" + request.stage());
    this.thread.setDaemon(true);
  }

  Request request() {
    return request;
  }

  void start() {
    thread.start();
  }

  void cancel() {
    thread.interrupt();
  }

  Status status() {
    return new Status(
        state.get(),
        phase.get(),
        bytesCopied.get(),
        keys.get(),
        bytesBuilt.get(),
        List.copyOf(staged),
        error.get(),
        baseOffsets);
  }

  private void run() {
    String newApp =
        KeyedStateStage.applicationId(request.baseApplicationId(), request.toGeneration());
    try {
      failIfAny(Directories.deleteRecursively(workDir));
      Files.createDirectories(workDir);
      RoutingTable table = oldRouting.table();
      List<SnapshotCollector.Copied> copies =
          SnapshotCollector.collect(
              fetcher,
              table,
              this::endpointOf,
              request.subtopology(),
              request.store(),
              request.minOffsets(),
              workDir.resolve("old"),
              request.patience());
      for (SnapshotCollector.Copied c : copies) {
        bytesCopied.addAndGet(directoryBytes(c.directory()));
      }
      // Copies come back ordered by task, so copy i is partition i of the old generation.
      for (int i = 0; i < copies.size(); i++) {
        if (copies.get(i).task().partition() != i) {
          throw new IllegalStateException(
              "the old generation's tasks are not partitions 0.."
                  + (copies.size() - 1)
                  + ": "
                  + copies);
        }
      }
      baseOffsets = copies.stream().map(SnapshotCollector.Copied::changelogOffset).toList();
      phase.set("SPLITTING");
      SnapshotSplit.Result split =
          SnapshotSplit.splitPartitions(
              copies.stream().map(SnapshotCollector.Copied::directory).toList(),
              request.toPartitions(),
              workDir.resolve("split"),
              (k, b) -> keys.set(k));
      keys.set(split.keys());
      phase.set("BUILDING");
      Instant asOf = Instant.now();
      Path builtDir = workDir.resolve("built");
      for (SnapshotSplit.Target target : split.targets()) {
        TaskId task = new TaskId(request.subtopology(), target.partition());
        TopicPartition changelog =
            new TopicPartition(newApp + "-" + request.store() + "-changelog", target.partition());
        Snapshot built =
            BuiltSnapshots.build(
                builtDir,
                task.toString(),
                target.file().map(List::of).orElse(List.of()),
                newApp,
                task,
                request.store(),
                Map.of(changelog, dev.backbone.rescale.GenerationChangelogs.BASE_OFFSET),
                asOf);
        bytesBuilt.addAndGet(built.manifest().totalBytes());
        lender.stage(newApp, task, request.store(), built);
        staged.add(task.toString());
      }
      // The old copies and split files are not needed any more; the built snapshots are lent.
      Directories.deleteRecursively(workDir.resolve("old"));
      Directories.deleteRecursively(workDir.resolve("split"));
      phase.set("STAGED");
      state.set("DONE");
      log.info(
          "rescale of {}: staged {} new tasks of generation {} ({} keys, {} bytes built from {}"
              + " bytes copied)",
          request.stage(),
          staged.size(),
          request.toGeneration(),
          keys.get(),
          bytesBuilt.get(),
          bytesCopied.get());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      error.set("cancelled");
      state.set("FAILED");
    } catch (IOException | RuntimeException e) {
      log.warn(
          "rescale of {}: preparing generation {} failed",
          request.stage(),
          request.toGeneration(),
          e);
      error.set(e.toString());
      state.set("FAILED");
    }
  }

  private static void failIfAny(Exception e) throws IOException {
    if (e != null) {
      throw new IOException("cannot clear the rescale work directory: " + e, e);
    }
  }

  private Optional<URI> endpointOf(String nodeId) {
    return oldRouting
        .membership()
        .member(nodeId)
        .filter((Member m) -> m.state() == MemberState.UP && !m.endpoint().isBlank())
        .map(m -> URI.create(fetcher.scheme() + "://" + m.endpoint()));
  }

  private static long directoryBytes(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (var walk = Files.walk(dir)) {
      walk.filter(Files::isRegularFile).forEach(files::add);
    }
    long total = 0;
    for (Path f : files) {
      total += Files.size(f);
    }
    return total;
  }
}
