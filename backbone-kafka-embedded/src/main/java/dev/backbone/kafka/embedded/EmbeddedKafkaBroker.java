package dev.backbone.kafka.embedded;

import dev.backbone.errors.FatalBackboneException;
import java.net.BindException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node Kafka 4.3 cluster in KRaft mode (one process that is both broker and controller)
 * running inside this JVM, with its data under one directory.
 *
 * <pre>{@code
 * try (EmbeddedKafkaBroker broker =
 *     EmbeddedKafkaBroker.builder().dataDir(dir).port(0).build()) {
 *   broker.start();
 *   String bootstrap = broker.bootstrapServers(); // "127.0.0.1:<port>"
 * }
 * }</pre>
 *
 * <p>The first {@link #start()} on a data directory formats it with a fresh cluster id; later
 * starts on the same directory reuse that id and keep every topic and record. The client listener
 * ({@code PLAINTEXT}) is on {@code 127.0.0.1} at the chosen port; the controller listener gets a
 * free loopback port of its own on every start, which works because the quorum is static ({@code
 * controller.quorum.voters}) and read from the configuration each time.
 *
 * <p>Defaults suit one node ({@link BrokerDefaults#forBrokers(int)}): every internal topic has
 * replication factor 1, consumer groups rebalance without the initial delay, topics are never
 * auto-created, Kafka's retention defaults apply. {@link Builder#property} overrides any of them.
 *
 * <p>Like any Kafka broker, it halts the JVM on a fatal metadata fault (Kafka's {@code
 * ProcessTerminatingFaultHandler}); that is the price of running Kafka's own server code unchanged.
 *
 * <p>Thread-safe: {@link #start()} and {@link #close()} may be called from any thread.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
  /** How long {@link #start()} waits for the broker to accept requests. */
  public static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  static final int NODE_ID = 1;
  static final String BROKER_LISTENER = "PLAINTEXT";
  static final String CONTROLLER_LISTENER = "CONTROLLER";

  /**
   * Settings that define where the broker listens and keeps its data; the builder owns them so
   * {@link #bootstrapServers()} and the data directory always tell the truth.
   */
  private static final Set<String> OWNED_SETTINGS =
      Set.of(
          "process.roles",
          "node.id",
          "broker.id",
          "listeners",
          "advertised.listeners",
          "listener.security.protocol.map",
          "controller.listener.names",
          "inter.broker.listener.name",
          "controller.quorum.voters",
          "controller.quorum.bootstrap.servers",
          "log.dirs",
          "log.dir",
          "metadata.log.dir",
          "broker.rack");

  /** When a port this class chose is taken before Kafka binds it, try again with new ports. */
  private static final int MAX_BIND_ATTEMPTS = 3;

  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

  private final KRaftStorage storage;
  private final int requestedPort;
  private final String rack;
  private final Map<String, String> extraSettings;

  // Lifecycle state, guarded by `this`: null before start() and after close().
  private Running running;
  private boolean closed;

  /** A started server and the facts {@link #start()} learned while starting it. */
  private record Running(KafkaRaftServer server, int port, int controllerPort, String clusterId) {}

  private EmbeddedKafkaBroker(Builder builder) {
    this.storage = new KRaftStorage(builder.dataDir);
    this.requestedPort = builder.port;
    this.rack = builder.rack;
    this.extraSettings = Map.copyOf(builder.settings);
  }

  /** Starts describing a broker; {@link Builder#dataDir} is the only required setting. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Formats the data directory on first use, starts the broker and blocks until it answers an Admin
   * {@code describeCluster} request. Does nothing if the broker is already running.
   *
   * @throws FatalBackboneException {@code KAFKA_DATA_DIR_UNUSABLE} when the data directory cannot
   *     be created, read or written, or holds something other than this broker's data; {@code
   *     KAFKA_PORT_IN_USE} when the requested port is taken; {@code KAFKA_START_FAILED} when Kafka
   *     rejects the settings or fails to start; {@code KAFKA_START_TIMEOUT} when the broker does
   *     not accept requests within {@link #START_TIMEOUT}. The broker is stopped again in every
   *     case.
   * @throws IllegalStateException after {@link #close()}
   */
  public synchronized void start() {
    if (closed) {
      throw new IllegalStateException(
          "The embedded Kafka broker on " + storage.dataDir() + " was closed; build a new one.");
    }
    if (running != null) {
      return;
    }
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    if (requestedPort != 0 && !LocalPorts.isFree(requestedPort)) {
      throw portInUse(requestedPort, null);
    }
    String clusterId = storage.prepare(NODE_ID, CONTROLLER_LISTENER);
    for (int attempt = 1; ; attempt++) {
      List<Integer> free = LocalPorts.pickFree(2);
      int port = requestedPort != 0 ? requestedPort : free.get(0);
      // Of two distinct free ports at least one differs from a requested client port.
      int controllerPort = free.get(1) != port ? free.get(1) : free.get(0);
      try {
        running = startServer(port, controllerPort, clusterId, deadline);
        log.info(
            "Embedded Kafka broker started on {}:{} (controller port {}, data dir {}, cluster {})",
            LocalPorts.HOST,
            port,
            controllerPort,
            storage.dataDir(),
            clusterId);
        return;
      } catch (LostPortRaceException e) {
        boolean ownPort = requestedPort == 0 || e.port != requestedPort;
        if (!ownPort || attempt >= MAX_BIND_ATTEMPTS) {
          throw portInUse(e.port, e.getCause());
        }
        log.info("Port {} was taken before Kafka bound it; retrying with other ports", e.port);
      }
    }
  }

  private Running startServer(int port, int controllerPort, String clusterId, long deadline) {
    KafkaRaftServer server;
    try {
      server =
          new KafkaRaftServer(
              KafkaConfig.fromProps(settings(port, controllerPort, deadline), false), Time.SYSTEM);
    } catch (ConfigException e) {
      throw startFailed(port, "Kafka rejected a broker setting: " + e.getMessage(), e);
    } catch (Exception e) {
      throw startFailed(port, "Kafka could not initialise the server: " + e.getMessage(), e);
    }
    try {
      server.startup();
    } catch (Exception e) { // Scala code: checked exceptions such as TimeoutException surface too
      stopQuietly(server, e);
      if (hasCause(e, BindException.class)) {
        throw new LostPortRaceException(portNamedIn(e, port, controllerPort), e);
      }
      if (hasCause(e, TimeoutException.class)) {
        throw startTimeout(port, "Kafka's startup timed out: " + e, e);
      }
      throw startFailed(port, "Kafka failed to start: " + e, e);
    }
    try {
      awaitAcceptingRequests(port, clusterId, deadline);
    } catch (RuntimeException e) {
      stopQuietly(server, e);
      throw e;
    }
    return new Running(server, port, controllerPort, clusterId);
  }

  private Properties settings(int port, int controllerPort, long deadline) {
    Properties props = new Properties();
    String host = LocalPorts.HOST;
    props.put("process.roles", "broker,controller");
    props.put("node.id", Integer.toString(NODE_ID));
    props.put("controller.quorum.voters", NODE_ID + "@" + host + ":" + controllerPort);
    props.put(
        "listeners",
        BROKER_LISTENER
            + "://"
            + host
            + ":"
            + port
            + ","
            + CONTROLLER_LISTENER
            + "://"
            + host
            + ":"
            + controllerPort);
    props.put("advertised.listeners", BROKER_LISTENER + "://" + host + ":" + port);
    props.put(
        "listener.security.protocol.map",
        BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
    props.put("controller.listener.names", CONTROLLER_LISTENER);
    props.put("inter.broker.listener.name", BROKER_LISTENER);
    props.put("log.dirs", storage.logDir().toString());
    props.put("metadata.log.dir", storage.logDir().toString());
    if (rack != null) {
      props.put("broker.rack", rack);
    }

    props.putAll(BrokerDefaults.forBrokers(1));
    props.put("default.replication.factor", Integer.toString(BrokerDefaults.replicationFactor(1)));
    // Kafka's own default, stated so readers need not look it up: topics are created with
    // explicit partition counts, this only applies to an Admin request that leaves it out.
    props.put("num.partitions", "1");
    // The cleaner allocates its dedupe buffer on the heap of the host JVM; Kafka's 128 MiB is
    // sized for a dedicated broker. 16 MiB still dedupes ~700k keys per pass.
    props.put("log.cleaner.dedupe.buffer.size", Integer.toString(16 * 1024 * 1024));
    // Let Kafka give up by itself at our deadline instead of blocking start() forever.
    long remainingMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    props.put("server.max.startup.time.ms", Long.toString(remainingMs));

    props.putAll(extraSettings);
    return props;
  }

  private void awaitAcceptingRequests(int port, String clusterId, long deadline) {
    long remainingMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, LocalPorts.HOST + ":" + port);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(remainingMs, 60_000));
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(remainingMs, 10_000));
    try (Admin admin = Admin.create(props)) {
      // The Admin client retries internally until its API timeout, so one call is the wait.
      DescribeClusterResult cluster = admin.describeCluster();
      String answeredId = cluster.clusterId().get(remainingMs, TimeUnit.MILLISECONDS);
      if (cluster.nodes().get(remainingMs, TimeUnit.MILLISECONDS).isEmpty()) {
        throw startTimeout(port, "it reports no live broker yet", null);
      }
      if (!clusterId.equals(answeredId)) {
        throw startFailed(
            port, "a different Kafka cluster (" + answeredId + ") answered on that port", null);
      }
    } catch (ExecutionException | TimeoutException e) {
      throw startTimeout(port, "describeCluster did not succeed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw startFailed(port, "interrupted while waiting for the broker to accept requests", e);
    }
  }

  /**
   * The broker's client address, {@code "127.0.0.1:<port>"}.
   *
   * @throws IllegalStateException unless the broker is running
   */
  public synchronized String bootstrapServers() {
    return LocalPorts.HOST + ":" + requireRunning().port();
  }

  /**
   * The port of the client listener, the one chosen when the builder asked for port 0.
   *
   * @throws IllegalStateException unless the broker is running
   */
  public synchronized int port() {
    return requireRunning().port();
  }

  /**
   * The id of the cluster stored in the data directory; it stays the same across restarts.
   *
   * @throws IllegalStateException unless the broker is running
   */
  public synchronized String clusterId() {
    return requireRunning().clusterId();
  }

  /** The controller listener's port; package-private because only tests have a use for it. */
  synchronized int controllerPort() {
    return requireRunning().controllerPort();
  }

  /** The directory given to {@link Builder#dataDir}, as an absolute path. */
  public Path dataDir() {
    return storage.dataDir();
  }

  /**
   * Shuts the broker down cleanly (controlled shutdown, logs flushed, locks released), so the next
   * start on the same data directory needs no log recovery. Later calls do nothing.
   *
   * @throws FatalBackboneException {@code KAFKA_STOP_FAILED} when Kafka's shutdown fails; the
   *     broker counts as closed anyway
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (running != null) {
      Running stopping = running;
      running = null;
      try {
        stopping.server().shutdown();
        stopping.server().awaitShutdown();
      } catch (Exception e) { // Scala code: checked exceptions may surface
        throw failure(
            "KAFKA_STOP_FAILED",
            stopping.port(),
            "did not shut down cleanly; the next start will recover its logs.",
            e);
      }
      log.info("Embedded Kafka broker on {} stopped", storage.dataDir());
    }
  }

  private Running requireRunning() {
    if (running == null) {
      throw new IllegalStateException(
          "The embedded Kafka broker on "
              + storage.dataDir()
              + (closed ? " was closed." : " is not started; call start() first."));
    }
    return running;
  }

  private static void stopQuietly(KafkaRaftServer server, Exception failure) {
    try {
      server.shutdown();
      server.awaitShutdown();
    } catch (Exception e) {
      failure.addSuppressed(e);
    }
  }

  private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  /** Kafka names the address it failed to bind in its message; fall back to the client port. */
  private static int portNamedIn(Throwable e, int port, int controllerPort) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage());
      if (message.contains(":" + controllerPort)) {
        return controllerPort;
      }
      if (message.contains(":" + port)) {
        return port;
      }
    }
    return port;
  }

  private FatalBackboneException portInUse(int port, Throwable cause) {
    return failure(
        "KAFKA_PORT_IN_USE",
        port,
        "cannot listen because the port is already in use; stop whatever listens there or choose"
            + " another port (0 picks a free one).",
        cause);
  }

  private FatalBackboneException startFailed(int port, String reason, Throwable cause) {
    return failure("KAFKA_START_FAILED", port, "did not start: " + reason, cause);
  }

  private FatalBackboneException startTimeout(int port, String reason, Throwable cause) {
    return failure(
        "KAFKA_START_TIMEOUT",
        port,
        "did not accept requests within "
            + START_TIMEOUT.toSeconds()
            + " s ("
            + reason
            + "); check the org.apache.kafka and kafka log output for the cause.",
        cause);
  }

  /** Every start failure names the address and the data directory it concerns. */
  private FatalBackboneException failure(String code, int port, String what, Throwable cause) {
    return new FatalBackboneException(
        code,
        "Embedded Kafka on "
            + LocalPorts.HOST
            + ":"
            + port
            + " (data dir "
            + storage.dataDir()
            + ") "
            + what,
        cause);
  }

  /** Kafka could not bind a port; carries which one so start() can decide to retry. */
  private static final class LostPortRaceException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int port;

    LostPortRaceException(int port, Throwable cause) {
      super("port " + port + " was taken", cause);
      this.port = port;
    }
  }

  /** Describes an {@link EmbeddedKafkaBroker}; not thread-safe. */
  public static final class Builder {
    private Path dataDir;
    private int port;
    private String rack;
    private final Map<String, String> settings = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Required. The directory that holds the broker's logs and metadata; created if missing. A
     * later broker on the same directory sees the same cluster, topics and records.
     */
    public Builder dataDir(Path dir) {
      this.dataDir = Objects.requireNonNull(dir, "dataDir");
      return this;
    }

    /**
     * The port of the {@code PLAINTEXT} listener on {@code 127.0.0.1}; 0, the default, picks a free
     * port at every start.
     */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be 0 (pick a free one) or 1-65535: " + port);
      }
      this.port = port;
      return this;
    }

    /** The broker's {@code broker.rack}; unset by default. */
    public Builder rack(String rack) {
      if (rack == null || rack.isBlank()) {
        throw new IllegalArgumentException("rack must not be blank");
      }
      this.rack = rack;
      return this;
    }

    /**
     * Any other broker setting, applied over the single-node defaults. Listener, quorum, node id,
     * rack and log directory settings are derived from the other builder methods and refused here.
     */
    public Builder property(String key, String value) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      if (OWNED_SETTINGS.contains(key)) {
        throw new IllegalArgumentException(
            "Broker setting "
                + key
                + " is derived from dataDir/port/rack and cannot be overridden with property()");
      }
      settings.put(key, value);
      return this;
    }

    /**
     * A broker that is not yet started.
     *
     * @throws IllegalStateException when no data directory was given
     */
    public EmbeddedKafkaBroker build() {
      if (dataDir == null) {
        throw new IllegalStateException("EmbeddedKafkaBroker needs a dataDir(Path)");
      }
      return new EmbeddedKafkaBroker(this);
    }
  }
}
