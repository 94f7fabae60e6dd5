package dev.backbone.bootstrap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.bootstrap.internals.Directories;
import dev.backbone.bootstrap.internals.Throttle;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import dev.backbone.store.SnapshotManifest;
import dev.backbone.store.SnapshotManifest.SnapshotFile;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import org.apache.kafka.streams.processor.TaskId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a snapshot of one task's store from a peer into a local staging directory, ready for
 * {@code SnapshotStore.install()}.
 *
 * <p>What must hold: the directory returned holds exactly the files of one peer's snapshot, each of
 * the manifest's size and CRC32C, and the manifest written last; anything less is deleted and never
 * returned. Files of two peers' snapshots are never mixed (each peer's attempt starts in a fresh
 * directory: two snapshots of one task may hold different files under the same name). {@code
 * install()} verifies it all again, so a bug here can make a bootstrap fail, not install a wrong
 * state.
 *
 * <p>How: the peers are tried in the given order (the caller puts the freshest, then the same rack,
 * first). From a peer the fetcher borrows a snapshot ({@code GET /internal/v1/snapshots/...}), then
 * copies its files in parallel, {@code parallelism} at a time, all under one {@link Throttle}. A
 * transfer that breaks resumes from the bytes it has ({@code Range}); a file whose checksum does
 * not match is fetched again from the start; a file that fails {@code attemptsPerFile} times, or a
 * peer that answers with an error, ends that peer's attempt (every transfer of it is cancelled,
 * Flink's {@code RocksDBStateDownloader} does the same) and the next peer is tried. A local write
 * failure (disk full) ends the whole fetch at once: another peer would not help. The borrowed
 * snapshot is released on the peer in every case.
 */
public final class PeerSnapshotFetcher {
  private static final Logger log = LoggerFactory.getLogger(PeerSnapshotFetcher.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The code of a fetch whose every peer was up but could not lend yet (each answered 503: its
   * replica is being recycled or initialized in a rebalance, or it lends its maximum): worth asking
   * again in a moment, unlike {@code NO_PEER_COULD_SERVE}.
   */
  public static final String PEERS_NOT_READY = "PEERS_NOT_READY";

  private static final String SECRET_HEADER = "X-Backbone-Cluster-Secret";
  private static final int BUFFER_BYTES = 256 * 1024;

  private final Settings settings;
  private final HttpClient client;
  private final Optional<SSLContext> tls;

  /**
   * How a fetch runs.
   *
   * @param clusterSecret the cluster secret every peer expects
   * @param parallelism files copied at once, at least 1
   * @param throttleBytesPerSecond bytes per second over all files of a fetch; 0 for no limit
   * @param requestTimeout how long one request may wait for a peer's first byte, and for each next
   *     chunk
   * @param attemptsPerFile tries per file from one peer (resumes and re-fetches), at least 1
   */
  public record Settings(
      String clusterSecret,
      int parallelism,
      long throttleBytesPerSecond,
      Duration requestTimeout,
      int attemptsPerFile) {
    /** Checks the bounds. */
    public Settings {
      Objects.requireNonNull(clusterSecret, "clusterSecret");
      Objects.requireNonNull(requestTimeout, "requestTimeout");
      if (parallelism < 1 || attemptsPerFile < 1 || throttleBytesPerSecond < 0) {
        throw new IllegalArgumentException(
            "parallelism and attemptsPerFile must be at least 1 and the throttle not negative");
      }
    }
  }

  /**
   * A replica to copy from.
   *
   * @param nodeId the peer's node id, for logs
   * @param endpoint its HTTP server, e.g. {@code http://10.0.0.7:7070}
   */
  public record Peer(String nodeId, URI endpoint) {}

  /**
   * Which lent snapshots are worth copying, judged from the manifest before any file moves: one an
   * install would refuse (no {@code dataAsOf}, or older than the changelog's {@code
   * delete.retention.ms}), or one further behind than the plan allows, is released and the next
   * peer asked.
   *
   * @param maxDataAge the changelog's {@code delete.retention.ms}; null accepts any age
   * @param minOffset the lowest changelog offset worth copying from one of {@code boundPeers} (the
   *     plan's freshness bound)
   * @param boundPeers node ids of the peers the bound applies to
   */
  public record Acceptance(Duration maxDataAge, long minOffset, Set<String> boundPeers) {
    /** Every snapshot. */
    public static final Acceptance ANY = new Acceptance(null, -1, Set.of());

    /** Copies the set. */
    public Acceptance {
      boundPeers = Set.copyOf(boundPeers);
    }

    /** Why the manifest lent by {@code peer} is not worth copying, or null if it is. */
    String refuse(JsonNode manifest, String peer, Instant now) {
      if (maxDataAge != null) {
        String asOf = manifest.path("dataAsOf").asText("");
        if (asOf.isEmpty() || manifest.path("dataAsOf").isNull()) {
          return "its snapshot does not say when its data was current (a replica that could not"
              + " vouch for it), so it could not be installed";
        }
        Instant dataAsOf;
        try {
          dataAsOf = Instant.parse(asOf);
        } catch (DateTimeParseException e) {
          return "its manifest's dataAsOf '" + asOf + "' is not a time";
        }
        if (!dataAsOf.plus(maxDataAge).isAfter(now)) {
          return "its snapshot's data is as of "
              + dataAsOf
              + ", not younger than the changelog's delete.retention.ms";
        }
      }
      if (minOffset >= 0 && boundPeers.contains(peer)) {
        long offset = -1;
        for (JsonNode o : manifest.path("changelogOffsets")) {
          offset = Math.max(offset, o.path("offset").asLong(-1));
        }
        // Through there the snapshot holds every record (only markers after its last one).
        for (JsonNode o : manifest.path("recordsThrough")) {
          offset = Math.max(offset, o.path("offset").asLong(-1));
        }
        if (offset < minOffset) {
          return "its snapshot is at changelog offset "
              + offset
              + ", behind the "
              + minOffset
              + " the plan asks of a same-rack source before a fresher one"
              + " (backbone.bootstrap.max.source.lag.records)";
        }
      }
      return null;
    }
  }

  /**
   * A complete copy.
   *
   * @param directory the staging directory holding the snapshot, manifest last
   * @param from the peer it came from
   * @param bytes bytes of the snapshot's files
   * @param took how long the fetch took, peers that failed included
   * @param failedPeers peers tried before, which failed
   * @param refetchedFiles files fetched again after a checksum mismatch or a broken transfer
   */
  public record Result(
      Path directory,
      Peer from,
      long bytes,
      Duration took,
      List<String> failedPeers,
      int refetchedFiles) {}

  /** Bytes done and total of the fetch in progress, for metrics and {@code /v1/cluster}. */
  public static final class Progress {
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong total = new AtomicLong();
    private final long startNanos = System.nanoTime();

    /** Bytes written to the staging directory so far (of the current peer's snapshot). */
    public long bytesDone() {
      return done.get();
    }

    /** Bytes of the snapshot being copied; 0 before a peer lent one. */
    public long bytesTotal() {
      return total.get();
    }

    /** Reports a copy made by another source (the archive), which counts whole snapshots. */
    public void report(long bytesDone, long bytesTotal) {
      total.set(bytesTotal);
      done.set(bytesDone);
    }

    /** Bytes per second since the fetch started. */
    public double bytesPerSecond() {
      double seconds = (System.nanoTime() - startNanos) / 1e9;
      return seconds <= 0 ? 0 : done.get() / seconds;
    }
  }

  /**
   * @param settings how fetches run
   */
  public PeerSnapshotFetcher(Settings settings) {
    this(settings, Optional.empty());
  }

  /**
   * @param settings how fetches run
   * @param tls the TLS context of peers that serve HTTPS (then {@link #scheme()} is {@code https});
   *     empty for plain HTTP
   */
  public PeerSnapshotFetcher(Settings settings, Optional<SSLContext> tls) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.tls = Objects.requireNonNull(tls, "tls");
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            .connectTimeout(settings.requestTimeout())
            .version(HttpClient.Version.HTTP_1_1);
    tls.ifPresent(builder::sslContext);
    this.client = builder.build();
  }

  /** The URI scheme peers serve snapshots at: {@code https} with TLS, else {@code http}. */
  public String scheme() {
    return tls.isPresent() ? "https" : "http";
  }

  /**
   * Copies a snapshot of a task's store from the first peer that can serve one {@code acceptance}
   * takes; a peer whose snapshot it refuses is released at once, before any file moves, and the
   * next one asked.
   *
   * @param peers replicas to try, in order
   * @param applicationId the store's application id
   * @param taskId its task
   * @param store its name
   * @param stagingParent where the staging directory is created (on the store's file system, so the
   *     install can move it)
   * @param progress updated as bytes arrive
   * @param acceptance which lent snapshots are worth copying ({@link Acceptance#ANY}: all)
   * @return the complete copy
   * @throws RetriableBackboneException {@code NO_PEER_COULD_SERVE} naming each peer's failure, or
   *     {@link #PEERS_NOT_READY} if every peer answered 503
   * @throws FatalBackboneException {@code BOOTSTRAP_LOCAL_WRITE_FAILED} if the local disk refused
   *     (full, read-only); nothing is left in {@code stagingParent}
   */
  public Result fetch(
      List<Peer> peers,
      String applicationId,
      TaskId taskId,
      String store,
      Path stagingParent,
      Progress progress,
      Acceptance acceptance)
      throws InterruptedException {
    Objects.requireNonNull(acceptance, "acceptance");
    long start = System.nanoTime();
    List<String> failures = new ArrayList<>();
    boolean allNotReady = !peers.isEmpty();
    for (Peer peer : peers) {
      Path staging = stagingParent.resolve(".bootstrap-" + UUID.randomUUID());
      try {
        Attempt attempt =
            new Attempt(peer, applicationId, taskId, store, staging, progress, acceptance);
        Result result =
            attempt.run(Duration.ofNanos(System.nanoTime() - start), List.copyOf(failures));
        log.info(
            "bootstrap of store {} task {}: copied {} bytes from {} in {} ms ({} MB/s), after"
                + " {} failed peers, {} files fetched again",
            store,
            taskId,
            result.bytes(),
            peer.nodeId(),
            result.took().toMillis(),
            String.format("%.1f", result.bytes() / 1e6 / Math.max(0.001, seconds(result.took()))),
            failures.size(),
            result.refetchedFiles());
        return result;
      } catch (PeerFailed e) {
        deleteQuietly(staging);
        allNotReady &= e.notReady;
        failures.add(peer.nodeId() + ": " + e.getMessage());
        log.warn(
            "bootstrap of store {} task {}: peer {} could not serve ({}); {}",
            store,
            taskId,
            peer.nodeId(),
            e.getMessage(),
            failures.size() < peers.size() ? "trying the next one" : "no peer left");
      } catch (LocalWriteFailed e) {
        deleteQuietly(staging);
        throw new FatalBackboneException(
            "BOOTSTRAP_LOCAL_WRITE_FAILED",
            "bootstrap of store "
                + store
                + " task "
                + taskId
                + " could not write its copy under "
                + stagingParent
                + " ("
                + e.getCause()
                + "); the partial copy was removed. Free disk space there; the store restores"
                + " from the changelog meanwhile.",
            e.getCause());
      } catch (InterruptedException | RuntimeException e) {
        deleteQuietly(staging);
        throw e;
      }
    }
    throw new RetriableBackboneException(
        allNotReady ? PEERS_NOT_READY : "NO_PEER_COULD_SERVE",
        "no replica could serve a snapshot of store "
            + store
            + " task "
            + taskId
            + (failures.isEmpty() ? " (none was given)" : ": " + String.join("; ", failures)));
  }

  private static double seconds(Duration d) {
    return d.toNanos() / 1e9;
  }

  /** One peer's try: borrow, copy every file, write the manifest, release. */
  private final class Attempt {
    private final Peer peer;
    private final String applicationId;
    private final TaskId taskId;
    private final String store;
    private final Path staging;
    private final Progress progress;
    private final Acceptance acceptance;
    private final Throttle throttle = new Throttle(settings.throttleBytesPerSecond());
    private final AtomicInteger refetched = new AtomicInteger();
    private final long startNanos = System.nanoTime();

    /** How to abort each transfer in flight (closes its connection, failing its read). */
    private final Set<Runnable> inFlight = ConcurrentHashMap.newKeySet();

    Attempt(
        Peer peer,
        String applicationId,
        TaskId taskId,
        String store,
        Path staging,
        Progress progress,
        Acceptance acceptance) {
      this.peer = peer;
      this.acceptance = acceptance;
      this.applicationId = applicationId;
      this.taskId = taskId;
      this.store = store;
      this.staging = staging;
      this.progress = progress;
    }

    Result run(Duration before, List<String> failedBefore) throws InterruptedException {
      JsonNode loan = borrow();
      String snapshotId = loan.path("snapshotId").asText();
      try {
        JsonNode manifest = loan.path("manifest");
        String refused = acceptance.refuse(manifest, peer.nodeId(), Instant.now());
        if (refused != null) {
          throw new PeerFailed(refused, null);
        }
        List<SnapshotFile> files = new ArrayList<>();
        long total = 0;
        for (JsonNode f : manifest.path("files")) {
          String name = f.path("name").asText();
          SnapshotFile file;
          try {
            // The record refuses names with separators or a leading dot (SnapshotFile).
            file = new SnapshotFile(name, f.path("size").asLong(), f.path("crc32c").asText());
          } catch (IllegalArgumentException e) {
            throw new PeerFailed("its manifest names a file '" + name + "'", null);
          }
          if (name.equals(SnapshotManifest.FILE_NAME)) {
            throw new PeerFailed("its manifest lists the manifest itself", null);
          }
          files.add(file);
          total += file.size();
        }
        progress.done.set(0);
        progress.total.set(total);
        try {
          Files.createDirectories(staging);
        } catch (IOException e) {
          throw new LocalWriteFailed(e);
        }
        copyAll(snapshotId, files);
        try {
          Path written =
              Files.writeString(
                  staging.resolve(SnapshotManifest.FILE_NAME),
                  JSON.writeValueAsString(manifest),
                  StandardOpenOption.CREATE_NEW,
                  StandardOpenOption.WRITE);
          Directories.force(written);
          Directories.force(staging);
        } catch (IOException e) {
          throw new LocalWriteFailed(e);
        }
        return new Result(
            staging,
            peer,
            total,
            before.plusNanos(System.nanoTime() - startNanos),
            failedBefore,
            refetched.get());
      } finally {
        release(snapshotId);
      }
    }

    private JsonNode borrow() throws InterruptedException {
      URI uri =
          peer.endpoint()
              .resolve(
                  "/internal/v1/snapshots/"
                      + taskId
                      + "/"
                      + encode(store)
                      + "?application="
                      + encode(applicationId));
      HttpResponse<byte[]> response;
      try {
        response = client.send(request(uri).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        throw new PeerFailed("unreachable (" + e + ")", e);
      }
      if (response.statusCode() != 200) {
        throw new PeerFailed(
            errorOf(response.statusCode(), response.body()), null, response.statusCode() == 503);
      }
      try {
        JsonNode loan = JSON.readTree(response.body());
        if (!loan.path("manifest").path("files").isArray()
            || loan.path("snapshotId").asText().isEmpty()) {
          throw new PeerFailed("its answer is not a snapshot loan", null);
        }
        return loan;
      } catch (IOException e) {
        throw new PeerFailed("its answer is not JSON", e);
      }
    }

    private void release(String snapshotId) {
      URI uri = snapshotUri(snapshotId);
      try {
        client.send(request(uri).DELETE().build(), HttpResponse.BodyHandlers.discarding());
      } catch (IOException e) {
        log.debug("could not release snapshot {} on {}: {}", snapshotId, peer.nodeId(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void copyAll(String snapshotId, List<SnapshotFile> files) throws InterruptedException {
      ExecutorService pool =
          Executors.newFixedThreadPool(
              Math.min(settings.parallelism(), Math.max(1, files.size())),
              r -> {
                Thread t = new Thread(r, "backbone-bootstrap-" + taskId + "-" + store);
                t.setDaemon(true);
                return t;
              });
      try {
        List<Future<?>> futures = new ArrayList<>();
        // Largest first: the long transfers start at once and the small ones fill in around them.
        files.stream()
            .sorted(Comparator.comparingLong(SnapshotFile::size).reversed())
            .forEach(
                f ->
                    futures.add(
                        pool.submit(
                            () -> {
                              copy(snapshotId, f);
                              return null;
                            })));
        for (Future<?> future : futures) {
          try {
            future.get();
          } catch (ExecutionException e) {
            futures.forEach(other -> other.cancel(true));
            Throwable cause = e.getCause();
            if (cause instanceof PeerFailed pf) {
              throw pf;
            }
            if (cause instanceof LocalWriteFailed lw) {
              throw lw;
            }
            if (cause instanceof RuntimeException re) {
              throw re;
            }
            throw new IllegalStateException(cause);
          }
        }
      } finally {
        pool.shutdownNow();
        inFlight.forEach(Runnable::run);
        pool.awaitTermination(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
      }
    }

    /** Copies one file, resuming and re-fetching up to {@code attemptsPerFile} times. */
    private void copy(String snapshotId, SnapshotFile file) throws InterruptedException {
      Path target = staging.resolve(file.name());
      String lastProblem = "";
      for (int attempt = 1; attempt <= settings.attemptsPerFile(); attempt++) {
        long have = sizeOf(target);
        if (have > file.size()) {
          reset(target, have);
          have = 0;
        }
        String crc = null;
        if (have < file.size() || file.size() == 0 && !Files.exists(target)) {
          try {
            Transferred t = transfer(snapshotId, file, target, have);
            have = t.size();
            crc = t.crc32c();
          } catch (IOException e) {
            // A broken transfer: keep what arrived and resume from it.
            lastProblem = "transfer broke (" + e.getMessage() + ")";
            if (attempt < settings.attemptsPerFile()) {
              refetched.incrementAndGet();
            }
            continue;
          }
        }
        if (have == file.size()) {
          crc = crc != null ? crc : checksumOf(target);
          if (crc.equals(file.crc32c())) {
            return;
          }
          lastProblem = "checksum " + crc + ", manifest says " + file.crc32c();
          log.warn(
              "bootstrap of store {} task {}: file {} from {} has {}; fetching it again",
              store,
              taskId,
              file.name(),
              peer.nodeId(),
              lastProblem);
        } else {
          lastProblem = "got " + have + " of " + file.size() + " bytes";
        }
        reset(target, have);
        if (attempt < settings.attemptsPerFile()) {
          refetched.incrementAndGet();
        }
      }
      throw new PeerFailed(
          "file "
              + file.name()
              + " failed "
              + settings.attemptsPerFile()
              + " times, last: "
              + lastProblem,
          null);
    }

    /**
     * Appends the file's bytes from {@code from} on; returns the size now on disk and, for a
     * transfer of the whole file, its CRC32C computed as the bytes arrived (a resumed one is read
     * again from disk by the caller).
     *
     * <p>File bodies go over {@link HttpURLConnection}, not the JDK's {@code HttpClient} (which the
     * small calls use): the blocking client reads the socket straight into one large buffer, where
     * {@code HttpClient} hands a body over in 16 KiB pieces through a queue between threads (its
     * {@code jdk.httpclient.bufsize}, a JVM-wide setting). Measured on loopback, 2 cores, a 306 MB
     * snapshot in 4 parallel transfers written to disk: 160-280 MB/s with {@code HttpClient},
     * 280-380 MB/s with this, and curl writing the same files about the same (330 MB/s): the disk
     * is the limit now.
     */
    private Transferred transfer(String snapshotId, SnapshotFile file, Path target, long from)
        throws IOException, InterruptedException {
      URI uri = snapshotUri(snapshotId).resolve(snapshotId + "/files/" + encode(file.name()));
      HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
      if (connection instanceof HttpsURLConnection https) {
        tls.ifPresent(context -> https.setSSLSocketFactory(context.getSocketFactory()));
      }
      int timeout = (int) Math.min(Integer.MAX_VALUE, settings.requestTimeout().toMillis());
      connection.setConnectTimeout(timeout);
      // A read that waits this long for a byte fails: a peer that stalls mid-body without closing
      // the connection (a partition, a frozen process) does not block the transfer forever.
      connection.setReadTimeout(timeout);
      connection.setUseCaches(false);
      connection.setRequestProperty(SECRET_HEADER, settings.clusterSecret());
      if (from > 0) {
        connection.setRequestProperty("Range", "bytes=" + from + "-");
      }
      Runnable abort = connection::disconnect;
      inFlight.add(abort);
      try {
        int status = connection.getResponseCode();
        if (status != 200 && status != 206) {
          InputStream error = connection.getErrorStream();
          byte[] text = error == null ? new byte[0] : error.readNBytes(4096);
          throw new PeerFailed(errorOf(status, text), null);
        }
        if (status == 200 && from > 0) {
          // The peer ignored the range: start over.
          reset(target, from);
          from = 0;
        }
        long written = from;
        CRC32C crc = from == 0 ? new CRC32C() : null;
        try (InputStream body = connection.getInputStream();
            FileChannel out = openForWrite(target, from == 0)) {
          byte[] buffer = new byte[BUFFER_BYTES];
          int chunk = readChunk(settings.throttleBytesPerSecond());
          for (int n = body.read(buffer, 0, chunk); n >= 0; n = body.read(buffer, 0, chunk)) {
            throttle.acquire(n);
            write(out, buffer, n);
            if (crc != null) {
              crc.update(buffer, 0, n);
            }
            written += n;
            progress.done.addAndGet(n);
            if (written > file.size()) {
              throw new IOException("the peer sent more than the manifest's " + file.size());
            }
            if (Thread.currentThread().isInterrupted()) {
              throw new InterruptedException("the copy was cancelled");
            }
          }
          if (written == file.size()) {
            // Durable before it is installed: after a machine crash RocksDB must find every byte
            // of the files its MANIFEST names (it syncs the files it writes itself, too).
            force(out);
          }
        }
        return new Transferred(written, crc == null ? null : SnapshotFile.checksumText(crc));
      } finally {
        inFlight.remove(abort);
      }
    }

    private record Transferred(long size, String crc32c) {}

    private URI snapshotUri(String snapshotId) {
      return peer.endpoint()
          .resolve("/internal/v1/snapshots/" + taskId + "/" + encode(store) + "/" + snapshotId);
    }

    private void reset(Path target, long had) {
      try {
        Files.deleteIfExists(target);
      } catch (IOException e) {
        throw new LocalWriteFailed(e);
      }
      progress.done.addAndGet(-had);
    }
  }

  private HttpRequest.Builder request(URI uri) {
    return HttpRequest.newBuilder(uri)
        .timeout(settings.requestTimeout())
        .header(SECRET_HEADER, settings.clusterSecret());
  }

  private static FileChannel openForWrite(Path target, boolean fresh) {
    try {
      return fresh
          ? FileChannel.open(
              target,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)
          : FileChannel.open(target, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new LocalWriteFailed(e);
    }
  }

  private static void force(FileChannel out) {
    try {
      out.force(true);
    } catch (IOException e) {
      throw new LocalWriteFailed(e);
    }
  }

  private static void write(FileChannel out, byte[] buffer, int n) {
    try {
      ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, n);
      while (bytes.hasRemaining()) {
        out.write(bytes);
      }
    } catch (IOException e) {
      throw new LocalWriteFailed(e);
    }
  }

  /**
   * Bytes read at a time: the whole buffer, or under a throttle about 50 ms worth (at least 4 KiB),
   * so that the throttle paces small pieces and the progress moves with them instead of in
   * buffer-sized steps seconds apart.
   */
  static int readChunk(long throttleBytesPerSecond) {
    if (throttleBytesPerSecond <= 0) {
      return BUFFER_BYTES;
    }
    return (int) Math.max(4096, Math.min(BUFFER_BYTES, throttleBytesPerSecond / 20));
  }

  private static long sizeOf(Path file) {
    try {
      return Files.exists(file) ? Files.size(file) : 0;
    } catch (IOException e) {
      throw new LocalWriteFailed(e);
    }
  }

  private static String checksumOf(Path file) {
    try {
      return SnapshotFile.checksumOf(file);
    } catch (IOException e) {
      throw new LocalWriteFailed(e);
    }
  }

  private static String errorOf(int status, byte[] body) {
    try {
      JsonNode error = JSON.readTree(body).path("error");
      if (!error.isMissingNode()) {
        return "HTTP "
            + status
            + " "
            + error.path("code").asText()
            + ": "
            + error.path("message").asText();
      }
    } catch (IOException | RuntimeException e) {
      // not a JSON error: fall through
    }
    return "HTTP " + status;
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static void deleteQuietly(Path dir) {
    Exception failure = Directories.deleteRecursively(dir);
    if (failure != null) {
      log.warn("could not remove the partial bootstrap copy at {}: {}", dir, failure.toString());
    }
  }

  /** This peer cannot serve the snapshot: try the next one. */
  private static final class PeerFailed extends RuntimeException {
    /** The peer is up but could not lend now (503: the task is moving, its lends are full). */
    final boolean notReady;

    PeerFailed(String message, Throwable cause) {
      this(message, cause, false);
    }

    PeerFailed(String message, Throwable cause, boolean notReady) {
      super(message, cause, false, false);
      this.notReady = notReady;
    }
  }

  /** The local disk refused a write: no peer can help. */
  private static final class LocalWriteFailed extends RuntimeException {
    LocalWriteFailed(IOException cause) {
      super(cause.toString(), cause, false, false);
    }
  }
}
