package dev.backbone.server.internals;

import dev.backbone.bootstrap.BootstrapSource;
import dev.backbone.bootstrap.CopyOrReplay;
import dev.backbone.bootstrap.PeerSnapshotFetcher;
import dev.backbone.routing.Member;
import dev.backbone.routing.MemberState;
import dev.backbone.routing.RoutedMember;
import dev.backbone.routing.RoutingCache;
import dev.backbone.routing.RoutingTable;
import dev.backbone.routing.RoutingTopics;
import dev.backbone.routing.TaskRoute;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's answer to "where can this store copy a snapshot from": the task's active replica in
 * the stage's routing table, if it is another node that is up, and only if a copy beats a replay:
 * for an empty store, a changelog of at least {@code backbone.bootstrap.min.lag.records}; for a
 * store back with old local state, a tail that long and estimated slower to replay than a copy of
 * the store's size ({@link CopyOrReplay}), decided from one ListOffsets before anything else so
 * that an ordinary restart is not held up.
 *
 * <p>Why only the active: an install refuses a snapshot that cannot show its data is younger than
 * the changelog's {@code delete.retention.ms} ({@code SnapshotAge}), and only a store that commits
 * processing writes knows when its data was current; a standby only restores, so its snapshots
 * carry no {@code dataAsOf}. Standbys as sources, and the same-rack preference among them, come
 * with a standby-side {@code dataAsOf}.
 *
 * <p>The changelog is {@code <application.id>-<store>-changelog}, partition = the task's partition,
 * as Kafka Streams names it for a store that is not fed from a source topic ({@code
 * ProcessorStateManager#getStorePartition}); no such topic means the store is not logged, and there
 * is nothing to restore either way.
 */
final class RoutingBootstrapSource implements BootstrapSource {
  private static final Logger log = LoggerFactory.getLogger(RoutingBootstrapSource.class);
  private static final long ADMIN_TIMEOUT_MS = 10_000;
  private static final Duration TABLE_WAIT = Duration.ofSeconds(5);

  private final String selfNodeId;
  private final Function<String, Optional<RoutingCache>> routingByApplication;
  private final Supplier<Admin> admin;
  private final PeerSnapshotFetcher fetcher;
  private final long minLagRecords;
  private final CopyOrReplay estimate;

  /**
   * @param selfNodeId this node, never a source for itself
   * @param routingByApplication the routing cache of a stage, by its application id
   * @param admin the node's admin client (created on first use)
   * @param fetcher the copier
   * @param minLagRecords {@code backbone.bootstrap.min.lag.records}
   * @param estimate how a store with old local state weighs a copy against its tail
   */
  RoutingBootstrapSource(
      String selfNodeId,
      Function<String, Optional<RoutingCache>> routingByApplication,
      Supplier<Admin> admin,
      PeerSnapshotFetcher fetcher,
      long minLagRecords,
      CopyOrReplay estimate) {
    this.selfNodeId = selfNodeId;
    this.routingByApplication = routingByApplication;
    this.admin = admin;
    this.fetcher = fetcher;
    this.minLagRecords = minLagRecords;
    this.estimate = estimate;
  }

  @Override
  public PeerSnapshotFetcher fetcher() {
    return fetcher;
  }

  @Override
  public Optional<Plan> plan(Request request) {
    TopicPartition changelog =
        new TopicPartition(
            request.applicationId() + "-" + request.storeName() + "-changelog",
            request.taskId().partition());
    String tailChoice = null;
    if (request.localOffset().isPresent()) {
      // A store back with old state: most restarts are short and replay a short tail, and must
      // not wait for anything but one ListOffsets. Only a long tail goes on to look for a peer.
      long tail;
      try {
        tail = endOffset(changelog) - (request.localOffset().getAsLong() + 1);
      } catch (ExecutionException e) {
        return none(
            request,
            e.getCause() instanceof UnknownTopicOrPartitionException
                ? "the store has no changelog topic " + changelog.topic()
                : "the changelog " + changelog + " cannot be read now: " + e.getCause());
      } catch (TimeoutException e) {
        return none(request, "the changelog " + changelog + " cannot be read now: " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      }
      if (tail < minLagRecords) {
        return none(
            request,
            "it holds local state, and its tail of "
                + Math.max(0, tail)
                + " records is under backbone.bootstrap.min.lag.records="
                + minLagRecords);
      }
      CopyOrReplay.Choice choice = estimate.choose(tail, request.localBytes());
      tailChoice = choice.describe(tail, request.localBytes());
      if (!choice.copy()) {
        return none(request, "it holds local state, and " + tailChoice);
      }
    }
    Optional<RoutingCache> cache = routingByApplication.apply(request.applicationId());
    if (cache.isPresent() && !cache.get().hasTable() && tablePublished(request.applicationId())) {
      // A node that just started reads the routing topic while it joins the group; give it a
      // moment (this runs off the stream thread). A new application has no table at all, and its
      // stores go on at once.
      try {
        cache.get().awaitTable(TABLE_WAIT);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      }
    }
    if (cache.isEmpty() || !cache.get().hasTable()) {
      return none(request, "no routing table for the application yet");
    }
    RoutingTable table = cache.get().table();
    Optional<TaskRoute> route = table.route(request.taskId());
    if (route.isEmpty() || route.get().active().isEmpty()) {
      return none(request, "the routing table names no active for the task");
    }
    Optional<RoutedMember> active = table.member(route.get().active().get());
    if (active.isEmpty() || active.get().nodeId().equals(selfNodeId)) {
      return none(request, "the task's active is this node or unknown");
    }
    Optional<Member> member = cache.get().membership().member(active.get().nodeId());
    if (member.isEmpty()
        || member.get().state() != MemberState.UP
        || member.get().endpoint().isBlank()) {
      return none(request, "the active's node " + active.get().nodeId() + " is not up");
    }
    Optional<Duration> retention;
    long records;
    try {
      retention = deleteRetention(changelog.topic());
      if (retention.isEmpty()) {
        return none(request, "the store has no changelog topic " + changelog.topic());
      }
      records = records(changelog);
    } catch (ExecutionException | TimeoutException e) {
      return none(request, "the changelog " + changelog + " cannot be described now: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
    if (tailChoice == null && records < minLagRecords) {
      return none(
          request,
          "its changelog holds "
              + records
              + " records, fewer than backbone.bootstrap.min.lag.records="
              + minLagRecords
              + ": a replay is as quick");
    }
    PeerSnapshotFetcher.Peer peer =
        new PeerSnapshotFetcher.Peer(
            active.get().nodeId(), URI.create("http://" + member.get().endpoint()));
    return Optional.of(
        new Plan(
            List.of(peer),
            retention.get(),
            (tailChoice != null
                    ? "its local state is behind: " + tailChoice
                    : "the changelog " + changelog + " holds " + records + " records to replay")
                + " otherwise; copying from the active on "
                + active.get().nodeId()
                + " (rack '"
                + active.get().rack()
                + "')"));
  }

  /** Whether any routing table of the application was ever published. */
  private boolean tablePublished(String applicationId) {
    TopicPartition routingTopic = new TopicPartition(RoutingTopics.routingTopic(applicationId), 0);
    try {
      return admin
              .get()
              .listOffsets(Map.of(routingTopic, OffsetSpec.latest()))
              .partitionResult(routingTopic)
              .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
              .offset()
          > 0;
    } catch (ExecutionException e) {
      return !(e.getCause() instanceof UnknownTopicOrPartitionException);
    } catch (TimeoutException e) {
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private Optional<Plan> none(Request request, String why) {
    log.info(
        "store {} task {} restores from the changelog: {}",
        request.storeName(),
        request.taskId(),
        why);
    return Optional.empty();
  }

  private Optional<Duration> deleteRetention(String topic)
      throws ExecutionException, InterruptedException, TimeoutException {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    try {
      Map<ConfigResource, Config> configs =
          admin
              .get()
              .describeConfigs(List.of(resource))
              .all()
              .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      ConfigEntry entry = configs.get(resource).get(TopicConfig.DELETE_RETENTION_MS_CONFIG);
      return Optional.of(Duration.ofMillis(Long.parseLong(entry.value())));
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private long endOffset(TopicPartition changelog)
      throws ExecutionException, InterruptedException, TimeoutException {
    return admin
        .get()
        .listOffsets(Map.of(changelog, OffsetSpec.latest()))
        .partitionResult(changelog)
        .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .offset();
  }

  private long records(TopicPartition changelog)
      throws ExecutionException, InterruptedException, TimeoutException {
    ListOffsetsResult end = admin.get().listOffsets(Map.of(changelog, OffsetSpec.latest()));
    ListOffsetsResult start = admin.get().listOffsets(Map.of(changelog, OffsetSpec.earliest()));
    long endOffset =
        end.partitionResult(changelog).get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS).offset();
    long startOffset =
        start.partitionResult(changelog).get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS).offset();
    return Math.max(0, endOffset - startOffset);
  }
}
