package dev.backbone.rescale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.bootstrap.PeerSnapshotFetcher;
import dev.backbone.errors.BackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.routing.RoutedMember;
import dev.backbone.routing.RoutingTable;
import dev.backbone.routing.TaskRoute;
import dev.backbone.store.SnapshotManifest;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.streams.processor.TaskId;

/**
 * Copies the snapshot of every task of a store from the node that runs it: the snapshot step of a
 * rescale, through the same lending endpoints and checks as a cold bootstrap ({@link
 * PeerSnapshotFetcher}: every file's checksum against the manifest, the manifest written last).
 *
 * <p>What must hold: each copy is at least as new as the drained state, i.e. its manifest's
 * changelog offset is at least the offset the caller names for the task (the last offset of the
 * task's changelog once the stage drained). A replica further behind (a standby that has not caught
 * up, an active that has not committed its last records yet) is released and the next asked, and
 * the whole round is tried again until {@code patience} runs out, because an active commits within
 * its commit interval. The offsets reported come from the copies' own manifests.
 */
public final class SnapshotCollector {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration BACKOFF = Duration.ofMillis(250);

  /** Tasks copied at once. */
  static final int PARALLEL_TASKS = 4;

  private SnapshotCollector() {}

  /**
   * One task's copy.
   *
   * @param task the task
   * @param directory the copied snapshot (a RocksDB checkpoint with its manifest)
   * @param changelogOffset the manifest's changelog offset for the task's partition (-1 if none)
   * @param from the node it was copied from
   */
  public record Copied(TaskId task, Path directory, long changelogOffset, String from) {}

  /**
   * Copies the snapshot of every task of {@code subtopology} in {@code table}.
   *
   * @param endpointOf the HTTP endpoint of a node id, if it is up
   * @param minOffsets per task, the changelog offset its copy must have reached
   * @param workDir where the copies go, one directory per task
   * @throws RetriableBackboneException {@code RESCALE_SNAPSHOT_UNAVAILABLE} naming the first task
   *     no replica could lend a fresh enough snapshot of within {@code patience}
   */
  public static List<Copied> collect(
      PeerSnapshotFetcher fetcher,
      RoutingTable table,
      Function<String, Optional<URI>> endpointOf,
      int subtopology,
      String store,
      Map<TaskId, Long> minOffsets,
      Path workDir,
      Duration patience)
      throws InterruptedException, IOException {
    List<TaskRoute> routes =
        table.tasks().stream().filter(r -> r.task().subtopology() == subtopology).toList();
    Map<TaskId, Copied> copied = new java.util.concurrent.ConcurrentSkipListMap<>();
    Map<TaskId, String> problems = new java.util.concurrent.ConcurrentHashMap<>();
    long deadline = System.nanoTime() + patience.toNanos();
    // Tasks are copied side by side: each copy's time is mostly its lender cutting a snapshot and
    // the round trips of a few files, not bandwidth.
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(
            Math.max(1, Math.min(PARALLEL_TASKS, routes.size())),
            r -> {
              Thread t = new Thread(r, "backbone-rescale-collect");
              t.setDaemon(true);
              return t;
            });
    try {
      while (copied.size() < routes.size()) {
        List<java.util.concurrent.Future<?>> round = new ArrayList<>();
        for (TaskRoute route : routes) {
          if (copied.containsKey(route.task())) {
            continue;
          }
          round.add(
              pool.submit(
                  () -> {
                    copyOne(fetcher, table, endpointOf, store, minOffsets, workDir, route)
                        .ifPresentOrElse(
                            c -> {
                              copied.put(route.task(), c);
                              problems.remove(route.task());
                            },
                            () ->
                                problems.putIfAbsent(
                                    route.task(),
                                    "no node that holds task " + route.task() + " is up"));
                    return null;
                  }));
        }
        for (java.util.concurrent.Future<?> f : round) {
          try {
            f.get();
          } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof BackboneException be) {
              problems.put(taskOf(be), be.getMessage());
            } else if (cause instanceof IOException io) {
              throw io;
            } else if (cause instanceof RuntimeException re) {
              throw re;
            } else {
              throw new IOException(cause);
            }
          }
        }
        if (copied.size() < routes.size()) {
          if (System.nanoTime() > deadline) {
            throw new RetriableBackboneException(
                "RESCALE_SNAPSHOT_UNAVAILABLE",
                "could not copy a snapshot of every task of store "
                    + store
                    + " within "
                    + patience.toSeconds()
                    + " s ("
                    + copied.size()
                    + " of "
                    + routes.size()
                    + " copied; last: "
                    + problems.values().stream().findFirst().orElse("?")
                    + ")");
          }
          Thread.sleep(BACKOFF.toMillis());
        }
      }
    } finally {
      pool.shutdownNow();
    }
    return List.copyOf(copied.values());
  }

  /** Copies do not share a task id key in the failure map unless their exception names one. */
  private static TaskId taskOf(BackboneException e) {
    return e instanceof TaskCopyException t ? t.task : new TaskId(-1, -1);
  }

  /** A task's copy that failed, with its task. */
  private static final class TaskCopyException extends RetriableBackboneException {
    final transient TaskId task;

    TaskCopyException(TaskId task, BackboneException cause) {
      super(cause.code(), "task " + task + ": " + cause.getMessage(), cause);
      this.task = task;
    }
  }

  /** One task's copy; empty if no replica of it is up. */
  private static Optional<Copied> copyOne(
      PeerSnapshotFetcher fetcher,
      RoutingTable table,
      Function<String, Optional<URI>> endpointOf,
      String store,
      Map<TaskId, Long> minOffsets,
      Path workDir,
      TaskRoute route)
      throws IOException, InterruptedException {
    List<PeerSnapshotFetcher.Peer> peers = peers(table, route, endpointOf);
    if (peers.isEmpty()) {
      return Optional.empty();
    }
    long minOffset = minOffsets.getOrDefault(route.task(), -1L);
    Path parent = workDir.resolve("task-" + route.task());
    Files.createDirectories(parent);
    try {
      PeerSnapshotFetcher.Result result =
          fetcher.fetch(
              peers,
              table.applicationId(),
              route.task(),
              store,
              parent,
              new PeerSnapshotFetcher.Progress(),
              new PeerSnapshotFetcher.Acceptance(
                  null,
                  minOffset,
                  peers.stream()
                      .map(PeerSnapshotFetcher.Peer::nodeId)
                      .collect(Collectors.toSet())));
      return Optional.of(
          new Copied(
              route.task(),
              result.directory(),
              offsetOf(result.directory(), route.task().partition()),
              result.from().nodeId()));
    } catch (TaskCopyException e) {
      throw e;
    } catch (BackboneException e) {
      throw new TaskCopyException(route.task(), e);
    }
  }

  /** The task's replicas that are up, its active first. */
  private static List<PeerSnapshotFetcher.Peer> peers(
      RoutingTable table, TaskRoute route, Function<String, Optional<URI>> endpointOf) {
    List<UUID> ids = new ArrayList<>();
    route.active().ifPresent(ids::add);
    ids.addAll(route.standbys());
    List<PeerSnapshotFetcher.Peer> peers = new ArrayList<>();
    for (UUID id : ids) {
      table
          .member(id)
          .map(RoutedMember::nodeId)
          .ifPresent(
              node ->
                  endpointOf
                      .apply(node)
                      .ifPresent(uri -> peers.add(new PeerSnapshotFetcher.Peer(node, uri))));
    }
    return peers;
  }

  /** The changelog offset of {@code partition} in a copied snapshot's own manifest; -1 if none. */
  private static long offsetOf(Path snapshot, int partition) throws IOException {
    JsonNode manifest = JSON.readTree(snapshot.resolve(SnapshotManifest.FILE_NAME).toFile());
    for (JsonNode o : manifest.path("changelogOffsets")) {
      if (o.path("partition").asInt(-1) == partition) {
        return o.path("offset").asLong(-1);
      }
    }
    return -1;
  }
}
