package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backbone.bootstrap.BootstrapSource;
import dev.backbone.bootstrap.ColdBootstrap;
import dev.backbone.bootstrap.PeerSnapshotFetcher;
import dev.backbone.bootstrap.SnapshotLender;
import dev.backbone.config.BackboneConfig;
import dev.backbone.errors.BackboneException;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotStores;
import dev.backbone.store.TestStoreContext;
import dev.backbone.store.internals.BackboneKeyValueStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.LockException;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Copying a snapshot between two real nodes' HTTP servers, each lending its own replica of one
 * task's store, and installing the copy into an empty replica: the happy path and the faults a peer
 * or the local disk can throw at it.
 */
class PeerBootstrapTest {
  private static final String SECRET = "0123456789abcdef-secret";
  private static final TaskId TASK = new TaskId(0, 1);
  private static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 1);
  private static final int KEYS = 20_000;
  private static final Duration DAY = Duration.ofDays(1);

  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private Peer a;
  private Peer b;

  /** A node lending its replica of the task's store over HTTP. */
  private record Peer(
      String id,
      BackboneKeyValueStore store,
      SnapshotStores registry,
      SnapshotLender lender,
      HttpApi api,
      NodeMetrics metrics) {
    PeerSnapshotFetcher.Peer address() {
      return new PeerSnapshotFetcher.Peer(id, URI.create("http://127.0.0.1:" + api.port()));
    }
  }

  @BeforeEach
  void startPeers() {
    a = peer("node-a");
    b = peer("node-b");
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private Peer peer(String id) {
    TestStoreContext context =
        new TestStoreContext(dir.resolve(id).resolve("task"), TASK, StreamsConfig.AT_LEAST_ONCE);
    BackboneKeyValueStore store = new BackboneKeyValueStore("s");
    store.init(context, store);
    toClose.add(store);
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < KEYS; i++) {
      byte[] value = new byte[100];
      random.nextBytes(value);
      store.put(key(i), value);
      if (i % 5_000 == 4_999) {
        // Several commits, so the snapshot holds several SST files once flushed.
        store.commit(Map.of(CHANGELOG, (long) i));
        store.snapshot(dir.resolve(id).resolve("flush-" + i));
      }
    }
    store.commit(Map.of(CHANGELOG, (long) KEYS - 1));
    SnapshotLender lender =
        new SnapshotLender(
            context.stores(),
            new SnapshotLender.Settings(4, Duration.ofMinutes(10), Duration.ofMinutes(5)),
            Clock.systemUTC());
    toClose.add(lender);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    NodeMetrics metrics = new NodeMetrics(registry, id, () -> false);
    toClose.add(metrics);
    HttpApi api =
        new HttpApi(
            new FixedLocalNode(id, List.of()),
            BackboneConfig.of(
                Map.of(
                    "backbone.node.id", id,
                    "backbone.http.port", "0",
                    "backbone.cluster.secret", SECRET)),
            registry,
            metrics,
            List.of(),
            lender,
            Map::of,
            List.of());
    api.start();
    toClose.add(api);
    return new Peer(id, store, context.stores(), lender, api, metrics);
  }

  private static Bytes key(int i) {
    return Bytes.wrap(ByteBuffer.allocate(4).putInt(i).array());
  }

  private static PeerSnapshotFetcher fetcher(String secret, long throttle, int attempts) {
    return new PeerSnapshotFetcher(
        new PeerSnapshotFetcher.Settings(secret, 3, throttle, Duration.ofSeconds(10), attempts));
  }

  private PeerSnapshotFetcher.Result fetch(
      PeerSnapshotFetcher fetcher, PeerSnapshotFetcher.Progress progress, Peer... peers)
      throws InterruptedException {
    List<PeerSnapshotFetcher.Peer> addresses = Stream.of(peers).map(Peer::address).toList();
    return fetcher.fetch(
        addresses, "app", TASK, "s", staging(), progress, PeerSnapshotFetcher.Acceptance.ANY);
  }

  private Path staging() {
    Path staging = dir.resolve("receiver-staging");
    try {
      Files.createDirectories(staging);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return staging;
  }

  /** Installs the copy into a new, empty replica and checks every key against the source. */
  private void assertInstallsAsACopyOf(PeerSnapshotFetcher.Result result, Peer source) {
    TestStoreContext context =
        new TestStoreContext(
            dir.resolve("receiver").resolve("task"), TASK, StreamsConfig.AT_LEAST_ONCE);
    BackboneKeyValueStore replica = new BackboneKeyValueStore("s");
    replica.init(context, replica);
    try {
      replica.install(result.directory(), DAY);
      assertThat(replica.committedOffset(CHANGELOG)).isEqualTo((long) KEYS - 1);
      for (int i = 0; i < KEYS; i++) {
        assertThat(replica.get(key(i))).as("key %d", i).isEqualTo(source.store().get(key(i)));
      }
    } finally {
      replica.close();
    }
  }

  @Test
  void copiesASnapshotThatInstallsAsAnExactReplica() throws Exception {
    PeerSnapshotFetcher.Progress progress = new PeerSnapshotFetcher.Progress();
    PeerSnapshotFetcher.Result result = fetch(fetcher(SECRET, 0, 3), progress, a);

    assertThat(result.from().nodeId()).isEqualTo("node-a");
    assertThat(result.failedPeers()).isEmpty();
    assertThat(result.refetchedFiles()).isZero();
    assertThat(result.bytes()).isGreaterThan(KEYS * 100L);
    assertThat(progress.bytesDone()).isEqualTo(progress.bytesTotal()).isEqualTo(result.bytes());
    assertThat(result.directory().resolve(SnapshotManifest.FILE_NAME)).isRegularFile();
    assertThat(a.lender().loans()).as("released on the peer").isEmpty();
    assertInstallsAsACopyOf(result, a);
  }

  @Test
  void aSameRackPeerBehindTheBoundIsReleasedUncopiedAndTheNextOneCopied() throws Exception {
    PeerSnapshotFetcher.Progress progress = new PeerSnapshotFetcher.Progress();
    PeerSnapshotFetcher.Result result =
        fetcher(SECRET, 0, 3)
            .fetch(
                List.of(a.address(), b.address()),
                "app",
                TASK,
                "s",
                staging(),
                progress,
                new PeerSnapshotFetcher.Acceptance(DAY, KEYS, Set.of("node-a")));

    assertThat(result.from().nodeId()).isEqualTo("node-b");
    assertThat(result.failedPeers())
        .singleElement()
        .asString()
        .contains("node-a: its snapshot is at changelog offset " + (KEYS - 1));
    assertThat(a.lender().loans()).as("node-a's snapshot released at once").isEmpty();
    assertThat(progress.bytesDone())
        .as("only node-b's files were copied")
        .isEqualTo(result.bytes());
    assertInstallsAsACopyOf(result, b);
  }

  @Test
  void aPeerThatIsDownIsSkipped() throws Exception {
    int deadPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      deadPort = socket.getLocalPort();
    }
    PeerSnapshotFetcher.Result result =
        fetcher(SECRET, 0, 2)
            .fetch(
                List.of(
                    new PeerSnapshotFetcher.Peer(
                        "node-dead", URI.create("http://127.0.0.1:" + deadPort)),
                    b.address()),
                "app",
                TASK,
                "s",
                staging(),
                new PeerSnapshotFetcher.Progress(),
                PeerSnapshotFetcher.Acceptance.ANY);

    assertThat(result.from().nodeId()).isEqualTo("node-b");
    assertThat(result.failedPeers())
        .singleElement()
        .asString()
        .startsWith("node-dead: unreachable");
    assertInstallsAsACopyOf(result, b);
  }

  @Test
  void aCorruptedFileIsFetchedAgainAndAPeerThatKeepsServingItIsLeft() throws Exception {
    // Lend A's snapshot now (the fetch reuses it) and flip one byte of its largest file. The
    // file is a hard link of the live store's: replace it with a corrupted copy instead.
    SnapshotLender.Loan loan = a.lender().lend("app", TASK, "s");
    SnapshotManifest.SnapshotFile largest =
        loan.manifest().files().stream()
            .max((x, y) -> Long.compare(x.size(), y.size()))
            .orElseThrow();
    Path file = a.lender().file(loan.id(), largest.name(), TASK, "s").path();
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x01;
    Files.delete(file);
    Files.write(file, bytes);

    PeerSnapshotFetcher.Result result =
        fetch(fetcher(SECRET, 0, 2), new PeerSnapshotFetcher.Progress(), a, b);

    assertThat(result.from().nodeId()).isEqualTo("node-b");
    assertThat(result.failedPeers())
        .singleElement()
        .asString()
        .contains(largest.name())
        .contains("checksum");
    assertInstallsAsACopyOf(result, b);
    assertThat(Files.list(staging()).toList())
        .as("only the good copy is left in the staging area")
        .containsExactly(result.directory());
  }

  /** Starts a fetch from A through the proxy (then the other peers), returns once a third is in. */
  private CompletableFuture<PeerSnapshotFetcher.Result> fetchAsyncUntilAThirdIsCopied(
      PeerSnapshotFetcher fetcher,
      PeerSnapshotFetcher.Progress progress,
      KillableTcpProxy toA,
      PeerSnapshotFetcher.Peer... others) {
    List<PeerSnapshotFetcher.Peer> peers = new ArrayList<>();
    peers.add(new PeerSnapshotFetcher.Peer("node-a", URI.create("http://127.0.0.1:" + toA.port())));
    peers.addAll(List.of(others));
    Path staging = staging();
    CompletableFuture<PeerSnapshotFetcher.Result> fetching =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return fetcher.fetch(
                    peers, "app", TASK, "s", staging, progress, PeerSnapshotFetcher.Acceptance.ANY);
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    // Polled often: the kill must land while two thirds are still to come.
    await("a third of A's snapshot copied")
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(5))
        .until(() -> progress.bytesTotal() > 0 && progress.bytesDone() > progress.bytesTotal() / 3);
    return fetching;
  }

  @Test
  void aPeerKilledMidTransferIsLeftForTheNextOne() throws Exception {
    // A dies mid-transfer: its connections are reset (a proxy in front of it is killed; Jetty's
    // own stop is graceful and would finish the transfer first).
    KillableTcpProxy toA = new KillableTcpProxy(a.api().port(), 300_000);
    toClose.add(toA);
    PeerSnapshotFetcher.Progress progress = new PeerSnapshotFetcher.Progress();
    CompletableFuture<PeerSnapshotFetcher.Result> fetching =
        fetchAsyncUntilAThirdIsCopied(fetcher(SECRET, 0, 2), progress, toA, b.address());
    toA.kill();

    PeerSnapshotFetcher.Result result = fetching.get(60, TimeUnit.SECONDS);
    assertThat(result.from().nodeId()).isEqualTo("node-b");
    assertThat(result.failedPeers()).singleElement().asString().startsWith("node-a");
    assertInstallsAsACopyOf(result, b);
  }

  @Test
  void aPeerThatHangsMidBodyIsLeftAfterTheRequestTimeout() throws Exception {
    KillableTcpProxy toA = new KillableTcpProxy(a.api().port(), 300_000);
    toClose.add(toA);
    PeerSnapshotFetcher.Progress progress = new PeerSnapshotFetcher.Progress();
    PeerSnapshotFetcher fetcher =
        new PeerSnapshotFetcher(
            new PeerSnapshotFetcher.Settings(SECRET, 3, 0, Duration.ofSeconds(2), 2));
    CompletableFuture<PeerSnapshotFetcher.Result> fetching =
        fetchAsyncUntilAThirdIsCopied(fetcher, progress, toA, b.address());
    // A stops answering without closing its connections; each read gives up after 2 s.
    toA.freeze();

    PeerSnapshotFetcher.Result result = fetching.get(60, TimeUnit.SECONDS);
    assertThat(result.from().nodeId()).isEqualTo("node-b");
    assertThat(result.failedPeers()).singleElement().asString().startsWith("node-a");
    assertInstallsAsACopyOf(result, b);
  }

  @Test
  void aBrokenConnectionResumesFromTheBytesAlreadyCopied() throws Exception {
    KillableTcpProxy toA = new KillableTcpProxy(a.api().port(), 300_000);
    toClose.add(toA);
    PeerSnapshotFetcher.Progress progress = new PeerSnapshotFetcher.Progress();
    CompletableFuture<PeerSnapshotFetcher.Result> fetching =
        fetchAsyncUntilAThirdIsCopied(fetcher(SECRET, 0, 3), progress, toA);
    long before = progress.bytesDone();
    toA.dropConnections();

    PeerSnapshotFetcher.Result result = fetching.get(60, TimeUnit.SECONDS);
    assertThat(result.from().nodeId()).isEqualTo("node-a");
    assertThat(result.failedPeers()).isEmpty();
    assertThat(result.refetchedFiles()).as("transfers resumed").isPositive();
    assertThat(toA.rangeRequests()).as("resumed by range, not from the start").isPositive();
    assertThat(before).isPositive();
    assertInstallsAsACopyOf(result, a);
  }

  @Test
  void aWrongSecretGetsNothingAndSaysSo() throws Exception {
    PeerSnapshotFetcher wrong = fetcher("not-the-cluster-secret", 0, 2);
    assertThatThrownBy(() -> fetch(wrong, new PeerSnapshotFetcher.Progress(), a))
        .isInstanceOf(BackboneException.class)
        .hasMessageContaining("node-a: HTTP 403 FORBIDDEN")
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("NO_PEER_COULD_SERVE");
    assertThat(a.lender().loans()).isEmpty();
    assertThat(Files.list(staging()).toList()).isEmpty();
  }

  @Test
  void aLocalWriteFailureEndsTheFetchCleanlyAndReleasesThePeersSnapshot() throws Exception {
    Path notADirectory = dir.resolve("a-file");
    Files.writeString(notADirectory, "x", StandardCharsets.UTF_8);
    assertTheFetchEndsWithALocalWriteFailure(notADirectory, "could not write its copy");
  }

  /** A fetch from A then B into {@code staging} ends at A with the local-write error. */
  private void assertTheFetchEndsWithALocalWriteFailure(Path staging, String message) {
    assertThatThrownBy(
            () ->
                fetcher(SECRET, 0, 2)
                    .fetch(
                        List.of(a.address(), b.address()),
                        "app",
                        TASK,
                        "s",
                        staging,
                        new PeerSnapshotFetcher.Progress(),
                        PeerSnapshotFetcher.Acceptance.ANY))
        .isInstanceOf(BackboneException.class)
        .hasMessageContaining(message)
        .extracting(e -> ((BackboneException) e).code())
        .isEqualTo("BOOTSTRAP_LOCAL_WRITE_FAILED");
    assertThat(a.lender().loans()).as("released on the peer").isEmpty();
    assertThat(b.lender().loans()).as("no other peer asked: it would not help").isEmpty();
  }

  /**
   * With an init wait, an init() that finds the copy about to finish waits for it (once) instead of
   * failing and leaving the install to Kafka Streams' next retry, 1-5 s later. Without it, each
   * retry here (every 100 ms) fails until the ~1 s copy is in.
   */
  @Test
  void aCopyAboutToFinishIsWaitedForOnceInsteadOfKafkaStreamsNextRetry() throws Exception {
    PeerSnapshotFetcher fetcher = fetcher(SECRET, 2_000_000, 3);
    try (ColdBootstrap cold =
        new ColdBootstrap(
            source(fetcher, a), 1, ColdBootstrap.DEFAULT_ABANDON_AFTER, Duration.ofSeconds(5))) {
      Receiver receiver = receiver(cold);
      assertThat(initAsKafkaStreamsRetries(receiver))
          .as("refused at most once, before the copy's size was known")
          .isLessThanOrEqualTo(1);
      try {
        assertThat(receiver.store().committedOffset(CHANGELOG)).isEqualTo((long) KEYS - 1);
        assertThat(receiver.store().get(key(11))).isEqualTo(a.store().get(key(11)));
        assertThat(cold.completed()).isEqualTo(1);
      } finally {
        receiver.store().close();
      }
    }
  }

  /**
   * A copy whose task moved away before Kafka Streams' next init() retry: nobody polls it, so after
   * the abandon time its finished copy is deleted and the job forgotten; when the task comes back,
   * a fresh copy fills it.
   */
  @Test
  void aFinishedCopyNobodyInstallsIsDeletedAndAReturningTaskCopiesAfresh() throws Exception {
    PeerSnapshotFetcher fetcher = fetcher(SECRET, 2_000_000, 3);
    try (ColdBootstrap cold =
        new ColdBootstrap(source(fetcher, a), 1, Duration.ofSeconds(3), Duration.ZERO)) {
      Receiver receiver = receiver(cold);
      assertThatThrownBy(() -> receiver.store().init(receiver.context(), receiver.store()))
          .isInstanceOf(LockException.class);
      Path bootstrapDir = dir.resolve("receiver").resolve("task").resolve("backbone-bootstrap");
      await("the copy finished, waiting for an init() that does not come")
          .atMost(Duration.ofSeconds(30))
          .until(() -> cold.statuses().stream().anyMatch(st -> st.phase().equals("installing")));
      assertThat(regularFilesUnder(bootstrapDir)).isNotEmpty();

      await("the unclaimed copy is dropped")
          .atMost(Duration.ofSeconds(30))
          .until(() -> cold.abandoned() == 1);
      assertThat(cold.statuses()).isEmpty();
      assertThat(regularFilesUnder(bootstrapDir)).as("its copy deleted").isEmpty();
      assertThat(cold.completed()).isZero();
      assertThat(cold.fellBack()).as("not a fallback: nobody asked").isZero();

      // The task comes back: a fresh copy, installed as usual.
      initAsKafkaStreamsRetries(receiver);
      try {
        assertThat(receiver.store().committedOffset(CHANGELOG)).isEqualTo((long) KEYS - 1);
        assertThat(receiver.store().get(key(7))).isEqualTo(a.store().get(key(7)));
        assertThat(cold.completed()).isEqualTo(1);
      } finally {
        receiver.store().close();
      }
    }
  }

  /**
   * A real full disk: the receiver's bootstrap directory is a 256 KiB tmpfs, far smaller than the
   * snapshot. The copy must end with the local-write error (not try another peer, which would not
   * help), leave no partial file on that disk, release the peer's snapshot, and the store must go
   * on empty, restorable from the changelog.
   */
  @Test
  void aFullDiskEndsTheCopyCleanlyAndTheStoreRestoresFromTheChangelog() throws Exception {
    Path small = dir.resolve("receiver").resolve("task").resolve("backbone-bootstrap");
    Files.createDirectories(small);
    int mounted = run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", small.toString());
    assumeTrue(mounted == 0, "mounting a small tmpfs needs root (CI runs as root)");
    try {
      assertThat(Files.getFileStore(small).getTotalSpace()).isLessThan(1024 * 1024);
      Path staging = Files.createDirectories(small.resolve("fetch"));
      assertTheFetchEndsWithALocalWriteFailure(staging, "No space left on device");
      assertThat(regularFilesUnder(small)).as("no partial copy left on the full disk").isEmpty();

      PeerSnapshotFetcher fetcher = fetcher(SECRET, 0, 2);
      try (ColdBootstrap cold = new ColdBootstrap(source(fetcher, a), 1)) {
        assertFallsBackToAnEmptyStore(cold);
        assertThat(regularFilesUnder(small)).as("no partial copy left").isEmpty();
        assertThat(a.lender().loans()).as("released on the peer").isEmpty();
      }
    } finally {
      assertThat(run("umount", small.toString())).as("umount").isZero();
    }
  }

  private static int run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getInputStream().transferTo(OutputStream.nullOutputStream());
    return p.waitFor();
  }

  private static List<Path> regularFilesUnder(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(Files::isRegularFile).toList();
    }
  }

  /** A source that always plans a copy from the given peers. */
  private static BootstrapSource source(PeerSnapshotFetcher fetcher, Peer... peers) {
    return new BootstrapSource() {
      @Override
      public Optional<Plan> plan(Request request) {
        return peers.length == 0
            ? Optional.empty()
            : Optional.of(new Plan(Stream.of(peers).map(Peer::address).toList(), DAY, "test plan"));
      }

      @Override
      public PeerSnapshotFetcher fetcher() {
        return fetcher;
      }
    };
  }

  private record Receiver(TestStoreContext context, BackboneKeyValueStore store) {}

  private Receiver receiver(ColdBootstrap cold) {
    TestStoreContext context =
        new TestStoreContext(
            dir.resolve("receiver").resolve("task"), TASK, StreamsConfig.AT_LEAST_ONCE);
    context.configs.put(ColdBootstrap.CONFIG, cold);
    return new Receiver(context, new BackboneKeyValueStore("s"));
  }

  /** Calls init() as Kafka Streams does for a pending task: again after each LockException. */
  private static int initAsKafkaStreamsRetries(Receiver receiver) {
    AtomicInteger refusals = new AtomicInteger();
    await("init() succeeds")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              try {
                receiver.store().init(receiver.context(), receiver.store());
                return true;
              } catch (LockException e) {
                refusals.incrementAndGet();
                assertThat(receiver.store().isOpen()).as("closed again while pending").isFalse();
                return false;
              }
            });
    return refusals.get();
  }

  @Test
  void anEmptyStoreIsFilledFromAPeerWhileItsInitNeverBlocksOnTheCopy() throws IOException {
    // A copy an earlier run of the node left when it was killed mid-copy: deleted, not kept.
    Path leftover =
        dir.resolve("receiver/task/backbone-bootstrap/s/.bootstrap-from-a-killed-run/000042.sst");
    Files.createDirectories(leftover.getParent());
    Files.write(leftover, new byte[4096]);
    try (ColdBootstrap cold = new ColdBootstrap(source(fetcher(SECRET, 1_000_000, 3), a), 1)) {
      Receiver receiver = receiver(cold);
      assertThatThrownBy(() -> receiver.store().init(receiver.context(), receiver.store()))
          .isInstanceOf(LockException.class)
          .hasMessageContaining("is being filled from a peer's snapshot");
      // init() came back while the copy runs (it takes over a second at 1 MB/s): not blocked on it.
      assertThat(cold.statuses())
          .singleElement()
          .satisfies(s -> assertThat(s.phase()).isIn("planning", "copying"));
      await("the copy shows its progress")
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () ->
                  cold.statuses().stream()
                      .anyMatch(
                          s ->
                              s.phase().equals("copying")
                                  && "node-a".equals(s.from())
                                  && s.bytesTotal() > 0
                                  && s.bytesDone() > 0
                                  && s.task().equals("0_1")));

      assertThat(initAsKafkaStreamsRetries(receiver)).isPositive();
      try {
        assertThat(receiver.store().committedOffset(CHANGELOG)).isEqualTo((long) KEYS - 1);
        for (int i = 0; i < KEYS; i++) {
          assertThat(receiver.store().get(key(i))).as("key %d", i).isEqualTo(a.store().get(key(i)));
        }
        assertThat(cold.completed()).isEqualTo(1);
        assertThat(cold.running()).isZero();
        assertThat(cold.statuses()).as("nothing left in progress once installed").isEmpty();
        assertThat(
                dir.resolve("receiver").resolve("task").resolve("backbone-bootstrap").resolve("s"))
            .isEmptyDirectory();
        assertThat(a.lender().loans()).as("released on the peer").isEmpty();
      } finally {
        receiver.store().close();
      }
    }
  }

  @Test
  void aStoreBackWithOldStateKeepsItOrTakesANewerCopyAsThePlanDecides() throws Exception {
    // The receiver's old state: an older version of the task, at offset 999, with a key the
    // task has deleted since.
    TestStoreContext old =
        new TestStoreContext(
            dir.resolve("receiver").resolve("task"), TASK, StreamsConfig.AT_LEAST_ONCE);
    BackboneKeyValueStore stale = new BackboneKeyValueStore("s");
    stale.init(old, stale);
    for (int i = 0; i < 1_000; i++) {
      stale.put(key(i), new byte[] {1});
    }
    stale.put(key(KEYS + 5), new byte[] {2});
    stale.commit(Map.of(CHANGELOG, 999L));
    stale.snapshot(dir.resolve("flush-old")); // flushed: the store has SST bytes to weigh
    stale.close();

    List<BootstrapSource.Request> asked = new ArrayList<>();
    PeerSnapshotFetcher fetcher = fetcher(SECRET, 0, 3);
    BootstrapSource replayTail =
        new BootstrapSource() {
          @Override
          public Optional<Plan> plan(Request request) {
            asked.add(request);
            return Optional.empty();
          }

          @Override
          public PeerSnapshotFetcher fetcher() {
            return fetcher;
          }
        };
    try (ColdBootstrap cold = new ColdBootstrap(replayTail, 1)) {
      Receiver receiver = receiver(cold);
      receiver.store().init(receiver.context(), receiver.store());
      try {
        assertThat(receiver.store().committedOffset(CHANGELOG))
            .as("the tail is replayed onto the old state")
            .isEqualTo(999L);
        assertThat(receiver.store().get(key(KEYS + 5))).isEqualTo(new byte[] {2});
      } finally {
        receiver.store().close();
      }
    }
    assertThat(asked)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.localOffset()).hasValue(999L);
              assertThat(r.localBytes()).as("the old state's size, to weigh a copy").isPositive();
            });

    try (ColdBootstrap cold = new ColdBootstrap(source(fetcher, a), 1)) {
      Receiver receiver = receiver(cold);
      initAsKafkaStreamsRetries(receiver);
      try {
        assertThat(receiver.store().committedOffset(CHANGELOG))
            .as("the copy's offset replaces the old one")
            .isEqualTo((long) KEYS - 1);
        for (int i = 0; i < KEYS; i++) {
          assertThat(receiver.store().get(key(i))).as("key %d", i).isEqualTo(a.store().get(key(i)));
        }
        assertThat(receiver.store().get(key(KEYS + 5)))
            .as("nothing of the old state survives the install")
            .isNull();
        assertThat(cold.completed()).isEqualTo(1);
      } finally {
        receiver.store().close();
      }
    }
  }

  @Test
  void aPeerNotReadyToLendInARebalanceIsAskedAgainInsteadOfFallingBack() throws Exception {
    // node-a's replica is being recycled: the node is up, but its store is not registered, and
    // it answers 503 STORE_NOT_HERE for a moment.
    SnapshotStores registry = a.registry();
    registry.unregister(a.store());
    CompletableFuture<Void> back =
        CompletableFuture.runAsync(
            () -> registry.register(a.store()),
            CompletableFuture.delayedExecutor(1_200, TimeUnit.MILLISECONDS));
    try (ColdBootstrap cold = new ColdBootstrap(source(fetcher(SECRET, 0, 3), a), 1)) {
      Receiver receiver = receiver(cold);
      initAsKafkaStreamsRetries(receiver);
      back.get(10, TimeUnit.SECONDS);
      try {
        assertThat(cold.completed()).as("copied once node-a could lend").isEqualTo(1);
        assertThat(cold.fellBack()).isZero();
        assertThat(receiver.store().committedOffset(CHANGELOG)).isEqualTo((long) KEYS - 1);
      } finally {
        receiver.store().close();
      }
    }
  }

  @Test
  void withNobodyToCopyFromInitGoesOnAtOnce() {
    try (ColdBootstrap cold = new ColdBootstrap(source(fetcher(SECRET, 0, 3)), 1)) {
      Receiver receiver = receiver(cold);
      receiver.store().init(receiver.context(), receiver.store());
      try {
        assertThat(receiver.store().committedOffset(CHANGELOG)).isNull();
        assertThat(cold.completed()).isZero();
        assertThat(cold.fellBack()).isZero();
      } finally {
        receiver.store().close();
      }
    }
  }

  @Test
  void aCopyThatFailsFallsBackToAChangelogRestore() throws Exception {
    PeerSnapshotFetcher fetcher = fetcher(SECRET, 0, 2);
    BootstrapSource deadOnly =
        planning(fetcher, new BootstrapSource.Plan(deadPeer(), DAY, "test plan"));
    try (ColdBootstrap cold = new ColdBootstrap(deadOnly, 1)) {
      assertFallsBackToAnEmptyStore(cold);
    }
  }

  /** An empty store's init() retried until it succeeds: empty, counted as a fallback. */
  @Test
  void aStoreThatNeedsDeletedChangelogRecordsAndCannotBeCopiedRefusesToInitializeEveryTime()
      throws Exception {
    PeerSnapshotFetcher fetcher = fetcher(SECRET, 0, 2);
    AtomicInteger plans = new AtomicInteger();
    BootstrapSource lost =
        new BootstrapSource() {
          @Override
          public Optional<Plan> plan(Request request) {
            plans.incrementAndGet();
            throw new dev.backbone.bootstrap.ChangelogTruncatedException(
                "store s of task "
                    + request.taskId()
                    + " cannot be restored: offsets 0 to 19 were deleted");
          }

          @Override
          public PeerSnapshotFetcher fetcher() {
            return fetcher;
          }
        };
    try (ColdBootstrap cold = new ColdBootstrap(lost, 1)) {
      Receiver receiver = receiver(cold);
      for (int attempt = 1; attempt <= 3; attempt++) {
        assertThatThrownBy(() -> receiver.store().init(receiver.context(), receiver.store()))
            .isInstanceOf(LockException.class)
            .hasMessageContaining("offsets 0 to 19 were deleted");
        assertThat(receiver.store().isOpen()).as("closed again, nothing restored").isFalse();
      }
      assertThat(plans.get()).as("planned again at every initialization").isEqualTo(3);
      assertThat(cold.blocked()).isEqualTo(3);
      assertThat(cold.fellBack()).isZero();
    }
  }

  @Test
  void aRequiredCopyThatFailsLeavesTheStoreWaitingNeverRestoringFromTheChangelog()
      throws Exception {
    PeerSnapshotFetcher fetcher = fetcher(SECRET, 0, 2);
    BootstrapSource deadOnly =
        planning(
            fetcher,
            new BootstrapSource.Plan(
                deadPeer(), DAY, "offsets 0 to 19 were deleted", 19, Set.of("node-dead"), true));
    try (ColdBootstrap cold = new ColdBootstrap(deadOnly, 1)) {
      Receiver receiver = receiver(cold);
      await("the failed copy refuses the initialization")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                try {
                  receiver.store().init(receiver.context(), receiver.store());
                  receiver.store().close();
                  throw new AssertionError("initialized without the required copy");
                } catch (LockException e) {
                  assertThat(receiver.store().isOpen()).isFalse();
                  return e.getMessage().contains("the copy failed");
                }
              });
      assertThat(cold.fellBack()).as("never a changelog restore").isZero();
      assertThat(cold.blocked()).isPositive();
      assertThat(cold.completed()).isZero();
    }
  }

  /** A peer on a port nobody listens on. */
  private static List<PeerSnapshotFetcher.Peer> deadPeer() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return List.of(
          new PeerSnapshotFetcher.Peer(
              "node-dead", URI.create("http://127.0.0.1:" + socket.getLocalPort())));
    }
  }

  /** A source that always plans {@code plan}. */
  private static BootstrapSource planning(PeerSnapshotFetcher fetcher, BootstrapSource.Plan plan) {
    return new BootstrapSource() {
      @Override
      public Optional<BootstrapSource.Plan> plan(BootstrapSource.Request request) {
        return Optional.of(plan);
      }

      @Override
      public PeerSnapshotFetcher fetcher() {
        return fetcher;
      }
    };
  }

  private void assertFallsBackToAnEmptyStore(ColdBootstrap cold) {
    Receiver receiver = receiver(cold);
    initAsKafkaStreamsRetries(receiver);
    try {
      assertThat(receiver.store().committedOffset(CHANGELOG))
          .as("empty: Kafka Streams restores it from the changelog")
          .isNull();
      assertThat(receiver.store().get(key(0))).isNull();
      assertThat(cold.fellBack()).isEqualTo(1);
      assertThat(cold.completed()).isZero();
    } finally {
      receiver.store().close();
    }
  }
}
