package dev.backbone.server.internals;

import dev.backbone.bootstrap.BootstrapSource;
import dev.backbone.bootstrap.BootstrapSource.ArchivedCopies;
import dev.backbone.bootstrap.ChangelogTruncatedException;
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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's answer to "where can this store copy a snapshot from": the task's replicas in the
 * stage's routing table on other nodes that are up (the active and the standbys, ranked by {@link
 * #sources}), and only if a copy beats a replay: for an empty store, a changelog of at least {@code
 * backbone.bootstrap.min.lag.records}; for a store back with old local state, a tail that long and
 * estimated slower to replay than a copy of the store's size ({@link CopyOrReplay}), decided from
 * one ListOffsets before anything else so that an ordinary restart is not held up.
 *
 * <p>A standby is a source because its node's lender vouches for its snapshot's {@code dataAsOf}
 * ({@link dev.backbone.bootstrap.SnapshotLender}); one it cannot vouch for is passed over by the
 * fetcher before any file moves.
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
  private final long maxSourceLagRecords;
  private final Optional<ArchivedCopies> archive;

  /**
   * @param selfNodeId this node, never a source for itself
   * @param routingByApplication the routing cache of a stage, by its application id
   * @param admin the node's admin client (created on first use)
   * @param fetcher the copier
   * @param minLagRecords {@code backbone.bootstrap.min.lag.records}
   * @param estimate how a store with old local state weighs a copy against its tail
   * @param maxSourceLagRecords {@code backbone.bootstrap.max.source.lag.records}
   * @param archive the node's snapshot archive, tried after the peers (or alone when none holds the
   *     task) and before the changelog
   */
  RoutingBootstrapSource(
      String selfNodeId,
      Function<String, Optional<RoutingCache>> routingByApplication,
      Supplier<Admin> admin,
      PeerSnapshotFetcher fetcher,
      long minLagRecords,
      CopyOrReplay estimate,
      long maxSourceLagRecords,
      Optional<ArchivedCopies> archive) {
    this.selfNodeId = selfNodeId;
    this.routingByApplication = routingByApplication;
    this.admin = admin;
    this.fetcher = fetcher;
    this.minLagRecords = minLagRecords;
    this.estimate = estimate;
    this.maxSourceLagRecords = maxSourceLagRecords;
    this.archive = archive;
  }

  @Override
  public Optional<ArchivedCopies> archive() {
    return archive;
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
    // Records the store needs that the changelog no longer holds (retention, a rescale's
    // generation base): then a replay would build the store without their effects, so a copy is
    // the only way, and no copy means the store waits.
    OptionalLong startRead = offsetOrNone(request, changelog, OffsetSpec.earliest());
    if (startRead.isEmpty()) {
      return Optional.empty();
    }
    long start = startRead.getAsLong();
    // A negative offset is a sentinel (no known position), never "records below 0 are needed".
    long neededFrom = Math.max(0, request.localOffset().orElse(-1) + 1);
    String truncated =
        start > neededFrom
            ? "it needs changelog records from offset "
                + neededFrom
                + ", and "
                + changelog
                + " starts at offset "
                + start
                + ": offsets "
                + neededFrom
                + " to "
                + (start - 1)
                + " were deleted"
            : null;
    String tailChoice = null;
    if (request.localOffset().isPresent()
        && request.localOffset().getAsLong() >= 0
        && truncated == null) {
      // A store back with old state: most restarts are short and replay a short tail, and must
      // not wait for anything but two ListOffsets. Only a long tail goes on to look for a peer.
      OptionalLong endRead = offsetOrNone(request, changelog, OffsetSpec.latest());
      if (endRead.isEmpty()) {
        return Optional.empty();
      }
      long tail = endRead.getAsLong() - (request.localOffset().getAsLong() + 1);
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
    String tail = tailChoice;
    java.util.function.Function<String, Optional<Plan>> noPeer =
        why -> archiveOr(truncated, tail, request, changelog, start, why);
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
      return noPeer.apply("no routing table for the application yet");
    }
    RoutingTable table = cache.get().table();
    Optional<TaskRoute> route = table.route(request.taskId());
    if (route.isEmpty()) {
      return noPeer.apply("the routing table does not know the task");
    }
    List<Source> sources = new ArrayList<>(sources(cache.get(), table, route.get()));
    if (truncated != null) {
      sources.addAll(stagingSources(cache.get(), sources));
    }
    if (sources.isEmpty()) {
      return noPeer.apply("no other replica of the task is on a node that is up");
    }
    Optional<Duration> retention;
    long records;
    long end;
    try {
      retention = deleteRetention(changelog.topic());
      if (retention.isEmpty()) {
        return none(request, "the store has no changelog topic " + changelog.topic());
      }
      end = endOffset(changelog);
      records = Math.max(0, end - start);
    } catch (ExecutionException | TimeoutException e) {
      return none(request, "the changelog " + changelog + " cannot be described now: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
    if (truncated != null) {
      // Every source must cover the deleted records: a snapshot at start - 1 or later.
      return Optional.of(
          new Plan(
              sources.stream().map(Source::peer).toList(),
              retention.get(),
              truncated
                  + "; copying a snapshot at offset "
                  + (start - 1)
                  + " or later from "
                  + sources.stream().map(Source::describe).toList(),
              start - 1,
              sources.stream().map(src -> src.peer().nodeId()).collect(Collectors.toSet()),
              true,
              archive.isPresent()));
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
    long minSourceOffset = Math.max(-1, end - 1 - maxSourceLagRecords);
    return Optional.of(
        new Plan(
            sources.stream().map(Source::peer).toList(),
            retention.get(),
            (tailChoice != null
                    ? "its local state is behind: " + tailChoice
                    : "the changelog " + changelog + " holds " + records + " records to replay")
                + " otherwise; copying from "
                + sources.stream().map(Source::describe).toList(),
            minSourceOffset,
            sources.stream()
                .filter(Source::lagBound)
                .map(src -> src.peer().nodeId())
                .collect(Collectors.toUnmodifiableSet()),
            false,
            archive.isPresent()));
  }

  /**
   * One replica to copy from.
   *
   * @param peer where it is
   * @param active whether it is the task's active (the freshest replica)
   * @param sameRack whether it is on this node's rack
   * @param lagBound whether it is passed over when further behind than the bound (a same-rack
   *     standby tried before a fresher replica on another rack)
   */
  private record Source(
      PeerSnapshotFetcher.Peer peer,
      boolean active,
      boolean sameRack,
      String rack,
      boolean lagBound) {
    String describe() {
      return (active ? "the active" : "a standby")
          + " on "
          + peer.nodeId()
          + " (rack '"
          + rack
          + "'"
          + (sameRack ? ", this node's" : "")
          + ")";
    }
  }

  /**
   * The task's replicas on other nodes that are up, best first: those on this node's rack first (a
   * copy inside a rack is cheaper), the active first within each group (it is the freshest); a
   * same-rack standby is tried first only within {@code backbone.bootstrap.max.source.lag.records}
   * of the changelog's end, else the next replica is asked. A new active without local state (this
   * node is the task's active) copies from its standbys.
   */
  private List<Source> sources(RoutingCache cache, RoutingTable table, TaskRoute route) {
    String selfRack =
        table.members().stream()
            .filter(m -> m.nodeId().equals(selfNodeId))
            .map(RoutedMember::rack)
            .findFirst()
            .orElse(null);
    List<UUID> replicas = new ArrayList<>();
    route.active().ifPresent(replicas::add);
    replicas.addAll(route.standbys());
    List<Source> sources = new ArrayList<>();
    for (UUID id : replicas) {
      Optional<RoutedMember> routed = table.member(id);
      if (routed.isEmpty() || routed.get().nodeId().equals(selfNodeId)) {
        continue;
      }
      Optional<Member> member = cache.membership().member(routed.get().nodeId());
      if (member.isEmpty()
          || member.get().state() != MemberState.UP
          || member.get().endpoint().isBlank()) {
        continue;
      }
      boolean active = route.active().map(id::equals).orElse(false);
      boolean sameRack = selfRack != null && selfRack.equals(routed.get().rack());
      sources.add(
          new Source(
              new PeerSnapshotFetcher.Peer(
                  routed.get().nodeId(),
                  URI.create(fetcher.scheme() + "://" + member.get().endpoint())),
              active,
              sameRack,
              routed.get().rack(),
              false));
    }
    sources.sort(
        Comparator.comparing((Source src) -> !src.sameRack()).thenComparing(src -> !src.active()));
    boolean fresherLater = false;
    List<Source> bounded = new ArrayList<>();
    for (int i = sources.size() - 1; i >= 0; i--) {
      Source src = sources.get(i);
      // Bound a same-rack standby only if a fresher replica (an active) comes after it.
      boolean bound = src.sameRack() && !src.active() && fresherLater;
      bounded.add(0, new Source(src.peer(), src.active(), src.sameRack(), src.rack(), bound));
      fresherLater |= src.active();
    }
    return bounded;
  }

  /**
   * For a store that must be copied: every other member that is up, and this node itself, after the
   * task's replicas. A rescale's new generation starts with no replica holding data; its first
   * states were built on some node and are lent from there ({@code SnapshotLender#stage}) to
   * whichever node Kafka Streams gives the task, this one included. A member without one answers
   * {@code STORE_NOT_HERE} and the next is asked.
   */
  private List<Source> stagingSources(RoutingCache cache, List<Source> replicas) {
    Set<String> asked = new HashSet<>();
    replicas.forEach(src -> asked.add(src.peer().nodeId()));
    List<Source> more = new ArrayList<>();
    for (Member member : cache.membership().upMembers()) {
      if (member.endpoint().isBlank() || !asked.add(member.nodeId())) {
        continue;
      }
      more.add(
          new Source(
              new PeerSnapshotFetcher.Peer(
                  member.nodeId(), URI.create(fetcher.scheme() + "://" + member.endpoint())),
              false,
              false,
              "staged",
              false));
    }
    // This node last: a copy from itself is a loopback call, and most often the task is elsewhere.
    more.sort(Comparator.comparing((Source src) -> src.peer().nodeId().equals(selfNodeId)));
    return more;
  }

  /** Whether any routing table of the application was ever published. */
  private boolean tablePublished(String applicationId) {
    TopicPartition routingTopic = new TopicPartition(RoutingTopics.routingTopic(applicationId), 0);
    try {
      return endOffset(routingTopic) > 0;
    } catch (ExecutionException e) {
      return !(e.getCause() instanceof UnknownTopicOrPartitionException);
    } catch (TimeoutException e) {
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * No peer to copy from: the archive, if the node has one and a copy beats a replay (or the
   * changelog is truncated, when nothing else may fill the store); else {@link #noneUnless}.
   */
  private Optional<Plan> archiveOr(
      String truncated,
      String tailChoice,
      Request request,
      TopicPartition changelog,
      long start,
      String why) {
    if (archive.isEmpty()) {
      return noneUnless(truncated, request, why);
    }
    Optional<Duration> retention;
    long records;
    try {
      retention = deleteRetention(changelog.topic());
      if (retention.isEmpty()) {
        return none(request, "the store has no changelog topic " + changelog.topic());
      }
      records = Math.max(0, endOffset(changelog) - start);
    } catch (ExecutionException | TimeoutException e) {
      return noneUnless(
          truncated, request, "the changelog " + changelog + " cannot be described now: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
    if (truncated == null && tailChoice == null && records < minLagRecords) {
      return none(
          request,
          why
              + ", and its changelog holds "
              + records
              + " records, fewer than backbone.bootstrap.min.lag.records="
              + minLagRecords);
    }
    String reason =
        (truncated != null
                ? truncated + "; copying a snapshot at offset " + (start - 1) + " or later"
                : tailChoice != null
                    ? "its local state is behind: " + tailChoice + " otherwise; copying"
                    : "the changelog " + changelog + " holds " + records + " records; copying")
            + " from the archive "
            + archive.get().describe()
            + " ("
            + why
            + ")";
    return Optional.of(
        new Plan(
            List.of(),
            retention.get(),
            reason,
            truncated != null ? start - 1 : -1,
            Set.of(),
            truncated != null,
            true));
  }

  /**
   * No plan, so a changelog restore; unless the changelog lacks records the store needs, which no
   * restore may hide: then the store waits ({@link ChangelogTruncatedException}).
   */
  private Optional<Plan> noneUnless(String truncated, Request request, String why) {
    if (truncated == null) {
      return none(request, why);
    }
    throw new ChangelogTruncatedException(
        "store "
            + request.storeName()
            + " of task "
            + request.taskId()
            + " cannot be restored from its changelog: "
            + truncated
            + " (retention, or a rescale's generation base); and it cannot be copied either: "
            + why
            + ". It waits until a replica of the task can be copied; nothing is replayed.");
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

  /**
   * An offset of the changelog; empty, after saying why the store restores from the changelog, when
   * it cannot be read (no such topic: the store is not logged).
   */
  private OptionalLong offsetOrNone(Request request, TopicPartition changelog, OffsetSpec spec) {
    try {
      return OptionalLong.of(offset(changelog, spec));
    } catch (ExecutionException e) {
      none(
          request,
          e.getCause() instanceof UnknownTopicOrPartitionException
              ? "the store has no changelog topic " + changelog.topic()
              : "the changelog " + changelog + " cannot be read now: " + e.getCause());
    } catch (TimeoutException e) {
      none(request, "the changelog " + changelog + " cannot be read now: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return OptionalLong.empty();
  }

  private long endOffset(TopicPartition changelog)
      throws ExecutionException, InterruptedException, TimeoutException {
    return offset(changelog, OffsetSpec.latest());
  }

  private long offset(TopicPartition partition, OffsetSpec spec)
      throws ExecutionException, InterruptedException, TimeoutException {
    return admin
        .get()
        .listOffsets(Map.of(partition, spec))
        .partitionResult(partition)
        .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .offset();
  }
}
