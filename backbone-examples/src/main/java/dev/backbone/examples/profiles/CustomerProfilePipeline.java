package dev.backbone.examples.profiles;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.examples.profiles.internals.SkipFailedRecordProductionHandler;
import dev.backbone.store.BackboneClientSupplier;
import dev.backbone.store.BackboneStores;
import dev.backbone.topics.WritableTopics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.AutoOffsetReset;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.processor.TimestampExtractor;
import org.apache.kafka.streams.processor.TopicNameExtractor;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The customer-profile reference application: raw shop events in, one {@link CustomerProfile} per
 * customer out, malformed events to a dead-letter topic.
 *
 * <p>Two stages, each its own Kafka Streams application with its own lifecycle, so that rescale
 * (DESIGN part 6, not built yet) will be able to pause ingest and drain the state stage on its own:
 *
 * <pre>
 *   inputTopic ──ingest (id &lt;appId&gt;-ingest)──▶ &lt;appId&gt;-keyed-events-g0 ──state (id &lt;appId&gt;)──▶ store customer-profiles
 *                  └──▶ dlqTopic
 * </pre>
 *
 * <ul>
 *   <li><b>Ingest</b> reads bytes, parses with {@link EventParser}, writes valid events keyed by
 *       their customer id (the payload is the truth, not the record key) as normalized JSON ({@link
 *       CustomerEventSerde}) to {@link #keyedEventsTopic()}, partitioned by the producer's default
 *       partitioner (murmur2 of the UTF-8 key), which is what routing assumes. Invalid events go to
 *       the DLQ with their original key, value and headers plus {@value #DLQ_REASON_HEADER},
 *       {@value #DLQ_CODE_HEADER} and {@value #DLQ_SOURCE_HEADER}, and increment the counter
 *       {@value #DLQ_EVENTS_METRIC} tagged {@value #DLQ_CODE_TAG}.
 *   <li><b>State</b> reads the keyed events and aggregates them with the DSL into {@value
 *       #PROFILE_STORE}, so {@code dsl.store.suppliers.class} alone decides the store
 *       implementation. The keyed topic is already partitioned by customer, so no Kafka Streams
 *       repartition topic exists: the keyed topic's partition count is the task count.
 * </ul>
 *
 * <p>What counts as a valid event is {@link EventParser}'s contract; how a profile follows from the
 * events (exact money in cents, orders minus returns, min/max event time, the last ten skus) is
 * {@link CustomerProfile}'s.
 *
 * <p>Neither stage stops on one bad record: parsing never throws; the state stage skips records it
 * cannot deserialize or aggregate; the producer skips records it cannot write (see {@link
 * #ingestProperties}). Output records keep the input record's timestamp, never the event {@code
 * ts}: an old {@code ts} as record time would make the brokers delete the keyed events by retention
 * right after writing them.
 */
public final class CustomerProfilePipeline {

  /** Name of the profile store (and KTable) of the state stage. */
  public static final String PROFILE_STORE = "customer-profiles";

  /** DLQ header with the human-readable reason, UTF-8. */
  public static final String DLQ_REASON_HEADER = "backbone.dlq.reason";

  /** DLQ header with the {@link InvalidReason} name, UTF-8. */
  public static final String DLQ_CODE_HEADER = "backbone.dlq.code";

  /** DLQ header with the source record, {@code topic/partition@offset}, UTF-8. */
  public static final String DLQ_SOURCE_HEADER = "backbone.dlq.source";

  /**
   * Micrometer counter of events sent to the DLQ; Prometheus: {@code backbone_dlq_events_total}.
   */
  public static final String DLQ_EVENTS_METRIC = "backbone.dlq.events";

  /** Tag of {@link #DLQ_EVENTS_METRIC} holding the {@link InvalidReason} name. */
  public static final String DLQ_CODE_TAG = "code";

  private static final String INGEST_SOURCE = "customer-events-source";
  private static final String ROUTER = "parse-and-route";
  private static final String KEYED_EVENTS_SINK = "keyed-events-sink";
  private static final String DLQ_SINK = "dlq-sink";

  /**
   * A record without a valid timestamp must reach the parser (and the DLQ if it is bad) rather than
   * stop the thread, as the default extractor would: fall back to partition time, or 0.
   */
  private static final TimestampExtractor TOLERANT_TIMESTAMPS =
      (record, partitionTime) ->
          record.timestamp() >= 0 ? record.timestamp() : Math.max(partitionTime, 0L);

  /**
   * {@code processing.exception.handler.global.enabled}. Deprecated in Kafka 4.4 only because 5.0
   * drops the switch and always uses the handler for global processing, which is what we set.
   */
  @SuppressWarnings("deprecation")
  private static final String GLOBAL_PROCESSING_EXCEPTION_HANDLER_ENABLED =
      StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG;

  private final PipelineSettings settings;

  /** A pipeline for these settings; builds nothing until asked. */
  public CustomerProfilePipeline(PipelineSettings settings) {
    if (settings == null) {
      throw new IllegalArgumentException("settings are required");
    }
    this.settings = settings;
  }

  /** The settings this pipeline was built from. */
  public PipelineSettings settings() {
    return settings;
  }

  /**
   * The Backbone-owned topic between the stages for generation 0: {@code <appId>-keyed-events-g0}.
   */
  public String keyedEventsTopic() {
    return keyedEventsTopic(settings.applicationId(), 0);
  }

  /**
   * The keyed-events topic of a generation: {@code <appId>-keyed-events-g<generation>}. Only
   * generation 0 exists today; the name is per generation so that rescale (DESIGN part 6, not built
   * yet) can create the next generation's topic beside it.
   */
  public static String keyedEventsTopic(String applicationId, int generation) {
    if (generation < 0) {
      throw new IllegalArgumentException("generation must be >= 0, got " + generation);
    }
    return applicationId + "-keyed-events-g" + generation;
  }

  /** The ingest stage's {@code application.id}: {@code <appId>-ingest}. */
  public String ingestApplicationId() {
    return settings.applicationId() + "-ingest";
  }

  /** The state stage's {@code application.id}: the configured application id. */
  public String stateApplicationId() {
    return settings.applicationId();
  }

  /**
   * The ingest stage: input topic to keyed-events topic and DLQ. Registers one {@value
   * #DLQ_EVENTS_METRIC} counter per {@link InvalidReason} (at 0) in {@code registry}, so dashboards
   * see every code before the first bad event.
   */
  public Topology ingestTopology(MeterRegistry registry) {
    return ingestTopology(registry, null);
  }

  /**
   * The ingest stage, writing its valid events where {@code keyedSink} says (a keyed state stage's
   * {@code sink()}, which names the generation its node runs, so a rescale can move the state stage
   * to a new topic); null writes to generation 0's {@link #keyedEventsTopic()}.
   */
  public Topology ingestTopology(
      MeterRegistry registry, TopicNameExtractor<String, CustomerEvent> keyedSink) {
    if (registry == null) {
      throw new IllegalArgumentException("a MeterRegistry is required for the DLQ counter");
    }
    Map<InvalidReason, Counter> dlqCounters = new EnumMap<>(InvalidReason.class);
    for (InvalidReason reason : InvalidReason.values()) {
      dlqCounters.put(
          reason,
          Counter.builder(DLQ_EVENTS_METRIC)
              .description("Customer events sent to the dead-letter topic, by reason")
              .tag(DLQ_CODE_TAG, reason.name())
              .register(registry));
    }
    Topology topology = new Topology();
    topology.addSource(
        AutoOffsetReset.earliest(),
        INGEST_SOURCE,
        TOLERANT_TIMESTAMPS,
        new ByteArrayDeserializer(),
        new ByteArrayDeserializer(),
        settings.inputTopic());
    topology.addProcessor(
        ROUTER, () -> new EventRouter(KEYED_EVENTS_SINK, DLQ_SINK, dlqCounters), INGEST_SOURCE);
    if (keyedSink == null) {
      topology.addSink(
          KEYED_EVENTS_SINK,
          keyedEventsTopic(),
          new StringSerializer(),
          new CustomerEventSerde().serializer(),
          ROUTER);
    } else {
      topology.addSink(
          KEYED_EVENTS_SINK,
          keyedSink,
          new StringSerializer(),
          new CustomerEventSerde().serializer(),
          ROUTER);
    }
    topology.addSink(
        DLQ_SINK,
        settings.dlqTopic(),
        new ByteArraySerializer(),
        new ByteArraySerializer(),
        ROUTER);
    return topology;
  }

  /** The state stage: keyed events aggregated into {@value #PROFILE_STORE}. */
  public Topology stateTopology() {
    return stateTopology(keyedEventsTopic());
  }

  /**
   * The state stage reading {@code inputTopic}: a keyed state stage builds it once per generation
   * with that generation's topic.
   */
  public Topology stateTopology(String inputTopic) {
    CustomerEventSerde eventSerde = new CustomerEventSerde();
    // Built with Backbone's processor wrapper, so a node reads the profiles without IQv2's task
    // walk; the store kind is also read while the topology is built.
    StreamsBuilder builder =
        new StreamsBuilder(
            BackboneStores.topologyConfig(
                Map.of(
                    StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                    settings.store().dslStoreSuppliers())));
    builder.stream(
            inputTopic, Consumed.with(Serdes.String(), eventSerde).withName("keyed-events-source"))
        .groupByKey(Grouped.with(Serdes.String(), eventSerde))
        .aggregate(
            // An Initializer cannot see the key, so it yields null and the aggregator starts the
            // customer's empty profile itself.
            () -> null,
            (customerId, event, profile) ->
                (profile == null ? CustomerProfile.empty(customerId) : profile).apply(event),
            Named.as("profile-aggregate"),
            Materialized.<String, CustomerProfile, KeyValueStore<Bytes, byte[]>>as(PROFILE_STORE)
                .withKeySerde(Serdes.String())
                .withValueSerde(new CustomerProfileSerde()));
    return builder.build();
  }

  /**
   * Kafka Streams properties of the ingest stage: a copy of {@code base} (bootstrap servers, state
   * dir, rack, standbys, ...) with the settings listed at {@link #stateProperties} and {@code
   * application.id = <appId>-ingest}.
   */
  public Properties ingestProperties(Properties base) {
    return stageProperties(base, ingestApplicationId());
  }

  /**
   * Kafka Streams properties of the state stage: a copy of {@code base} with
   *
   * <ul>
   *   <li>{@code application.id} = the application id (overrides base);
   *   <li>{@code processing.guarantee} = the settings' guarantee (overrides base);
   *   <li>{@code deserialization.exception.handler} = {@link LogAndContinueExceptionHandler},
   *       {@code processing.exception.handler} = {@link LogAndContinueProcessingExceptionHandler},
   *       {@code production.exception.handler} = {@link SkipFailedRecordProductionHandler}
   *       (override base: one bad record never stops a stage), and {@code
   *       processing.exception.handler.global.enabled} = true (Kafka 5.0's default), also for the
   *       main consumer, whose partition assignor reads it;
   *   <li>{@code replication.factor} = the settings' replication factor, unless base sets it;
   *   <li>{@code dsl.store.suppliers.class} = the settings' {@link StoreKind} (state stage only):
   *       Backbone's snapshot store by default, Kafka Streams' RocksDB store with {@code stock};
   *   <li>with Backbone stores, {@link BackboneStores#streamsSettings()}: {@code
   *       enable.transactional.statestores=true} and {@code default.client.supplier} = {@link
   *       BackboneClientSupplier}, so under exactly-once they commit with every transaction that
   *       committed and with no other (see {@code docs/store.md}).
   * </ul>
   *
   * No default serdes are set: every source, sink and store names its serdes.
   */
  public Properties stateProperties(Properties base) {
    Properties properties = stageProperties(base, stateApplicationId());
    properties.put(
        StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, settings.store().dslStoreSuppliers());
    if (settings.store() == StoreKind.BACKBONE) {
      properties.putAll(BackboneStores.streamsSettings());
    }
    return properties;
  }

  private Properties stageProperties(Properties base, String applicationId) {
    Properties properties = new Properties();
    if (base != null) {
      properties.putAll(base);
      for (String name : base.stringPropertyNames()) {
        properties.putIfAbsent(name, base.getProperty(name)); // values from base's defaults
      }
    }
    properties.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    properties.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, settings.guarantee());
    properties.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndContinueExceptionHandler.class.getName());
    properties.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndContinueProcessingExceptionHandler.class.getName());
    // The pipeline has no global store, so this changes no behaviour; left false, Kafka Streams
    // 4.4 warns about it in every StreamsConfig it builds (StreamsConfig's constructor), and Kafka
    // 5.0 turns it on anyway. Its partition assignor builds one more StreamsConfig from the main
    // consumer's settings (AssignorConfiguration's QuietStreamsConfig), which carry only consumer
    // settings, the assignment settings and main.consumer.-prefixed ones: hence both keys.
    properties.put(GLOBAL_PROCESSING_EXCEPTION_HANDLER_ENABLED, true);
    properties.put(
        StreamsConfig.mainConsumerPrefix(GLOBAL_PROCESSING_EXCEPTION_HANDLER_ENABLED), true);
    properties.put(
        StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
        SkipFailedRecordProductionHandler.class.getName());
    properties.putIfAbsent(
        StreamsConfig.REPLICATION_FACTOR_CONFIG, Short.toString(settings.replicationFactor()));
    return properties;
  }

  /**
   * Creates the input, DLQ and keyed-events topics with the configured partitions and replication
   * factor, and returns once every partition of the three accepts writes (see {@link
   * WritableTopics}: a producer that starts earlier can lose records). Idempotent and safe to race
   * with another node: existing topics are kept as they are, except that an existing keyed-events
   * topic must have exactly {@code partitions} partitions, because its count is the state stage's
   * task count.
   *
   * @throws FatalBackboneException {@code TOPIC_PARTITIONS_MISMATCH} if the keyed-events topic
   *     exists with another partition count; {@code TOPIC_CREATION_FAILED} if the brokers refuse
   * @throws dev.backbone.errors.RetriableBackboneException {@code KAFKA_UNAVAILABLE} if the brokers
   *     did not answer, {@code TOPIC_NOT_WRITABLE} if a partition's leader did not accept writes in
   *     time
   */
  public void createTopics(Admin admin) {
    List<NewTopic> topics = new ArrayList<>();
    for (String name : List.of(settings.inputTopic(), settings.dlqTopic(), keyedEventsTopic())) {
      topics.add(new NewTopic(name, settings.partitions(), settings.replicationFactor()));
    }
    int actual = new WritableTopics(admin).create(topics).get(keyedEventsTopic());
    if (actual != settings.partitions()) {
      throw new FatalBackboneException(
          "TOPIC_PARTITIONS_MISMATCH",
          "topic "
              + keyedEventsTopic()
              + " has "
              + actual
              + " partitions but the pipeline is configured for "
              + settings.partitions()
              + "; its partition count is the state stage's task count and cannot change in"
              + " place. Configure partitions="
              + actual
              + " to run on the existing topic, or use a new application id (a new keyed-events"
              + " topic) for another task count.");
    }
  }

  /**
   * The total of the {@value #DLQ_EVENTS_METRIC} counters (all codes) in {@code registry}: the
   * number of events this process's ingest stage sent to the DLQ.
   */
  public static double dlqEventCount(MeterRegistry registry) {
    return registry.find(DLQ_EVENTS_METRIC).counters().stream().mapToDouble(Counter::count).sum();
  }
}
