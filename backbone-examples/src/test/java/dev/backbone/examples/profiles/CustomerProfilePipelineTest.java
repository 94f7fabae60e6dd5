package dev.backbone.examples.profiles;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.examples.load.EventStream;
import dev.backbone.examples.load.GeneratedEvent;
import dev.backbone.examples.load.LoadGenerator;
import dev.backbone.examples.load.LoadSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The two stages end to end in {@link TopologyTestDriver}s: raw records into the ingest stage, its
 * keyed-events output (as bytes) into the state stage. Expected profiles come from an oracle in
 * this class that works on the raw inputs and shares no code with {@link CustomerProfile}.
 */
class CustomerProfilePipelineTest {

  private static final long RECORD_TS = 1_700_000_000_000L;
  private static final ObjectMapper ORACLE_JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  @TempDir Path stateDir;

  private final CustomerProfilePipeline pipeline =
      new CustomerProfilePipeline(PipelineSettings.defaults("profiles-test"));
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  /** A raw input record; {@code expectedCode} is null for a valid event. */
  private record Input(String key, String value, String expectedCode) {
    static Input valid(String key, String value) {
      return new Input(key, value, null);
    }

    static Input bad(String key, String value, InvalidReason reason) {
      return new Input(key, value, reason.name());
    }
  }

  /** What both stages produced. */
  private record Outcome(
      List<TestRecord<byte[], byte[]>> keyed,
      List<TestRecord<byte[], byte[]>> dlq,
      Map<String, CustomerProfile> profiles) {}

  @Test
  void buildsEveryProfileAsTheOracleDoesAndSendsExactlyTheMalformedEventsToTheDlq() {
    List<Input> inputs =
        List.of(
            Input.valid(
                "c-1",
                "{\"customerId\":\"c-1\",\"type\":\"order\",\"ts\":1000,\"sku\":\"sku-1\",\"amount\":10.00}"),
            Input.bad("c-1", "hello, not json", InvalidReason.NOT_JSON),
            Input.valid(
                null, "{\"customerId\":\"c-1\",\"type\":\"view\",\"ts\":500,\"sku\":\"sku-2\"}"),
            Input.bad(null, null, InvalidReason.NOT_JSON),
            Input.valid(
                "somebody-else",
                "{\"customerId\":\"c-1\",\"type\":\"return\",\"ts\":2000,\"sku\":\"sku-1\",\"amount\":2.5}"),
            Input.bad("c-2", "{\"type\":\"view\",\"ts\":1}", InvalidReason.MISSING_ID),
            Input.bad("c-2", "{\"customerId\":\"  \",\"type\":\"view\"}", InvalidReason.MISSING_ID),
            Input.valid("c-2", "{\"customerId\":\"c-2\",\"type\":\"cart\",\"amount\":5}"),
            Input.bad("c-2", "{\"customerId\":7,\"type\":\"view\"}", InvalidReason.BAD_ID),
            Input.bad("c-2", "{\"customerId\":\"c-2\"}", InvalidReason.MISSING_TYPE),
            Input.valid(
                "c-2", "{\"customerId\":\"c-2\",\"type\":\"order\",\"ts\":3000,\"amount\":1.005}"),
            Input.bad(
                "c-2", "{\"customerId\":\"c-2\",\"type\":\"refund\"}", InvalidReason.UNKNOWN_TYPE),
            Input.bad(
                "c-3",
                "{\"customerId\":\"c-3\",\"type\":\"order\",\"amount\":-3}",
                InvalidReason.NEGATIVE_AMOUNT),
            Input.bad(
                "c-3",
                "{\"customerId\":\"c-3\",\"type\":\"order\",\"amount\":\"3\"}",
                InvalidReason.BAD_AMOUNT),
            Input.bad(
                "c-3",
                "{\"customerId\":\"c-3\",\"type\":\"order\",\"ts\":\"noon\"}",
                InvalidReason.BAD_TIMESTAMP),
            Input.bad(
                "c-3",
                "{\"customerId\":\"c-3\",\"type\":\"view\",\"sku\":[1]}",
                InvalidReason.BAD_SKU),
            Input.valid(
                "c-3", "{\"customerId\":\"c-3\",\"type\":\"return\",\"ts\":100,\"amount\":20}"));
    List<Input> all = new ArrayList<>(inputs);
    for (int i = 0; i < 12; i++) { // more skus than a profile keeps, out of ts order
      all.add(
          Input.valid(
              "c-1",
              "{\"customerId\":\"c-1\",\"type\":\"view\",\"ts\":"
                  + (1500 + (i % 3) * 1000)
                  + ",\"sku\":\"sku-"
                  + (10 + i)
                  + "\"}"));
    }
    all.add(Input.bad("c-4", "{\"customerId\":\"c-4\",", InvalidReason.NOT_JSON));
    // Processing goes on after all those bad records: this last valid event must count.
    all.add(Input.valid("c-4", "{\"customerId\":\"c-4\",\"type\":\"view\",\"ts\":42}"));

    Outcome outcome = run(all);

    assertThat(outcome.profiles()).isEqualTo(oracleProfiles(all));
    assertThat(outcome.profiles()).containsKey("c-4");
    assertThat(json(outcome.profiles().get("c-2")))
        .isEqualTo(
            "{\"customerId\":\"c-2\",\"counts\":{\"view\":0,\"cart\":1,\"order\":1,\"return\":0},"
                + "\"orders\":1,\"totalSpend\":1.01,\"totalSpendCents\":101,\"firstSeen\":3000,"
                + "\"lastSeen\":"
                + RECORD_TS
                + ",\"lastSkus\":[]}");
    assertDlqHoldsExactlyTheBadInputs(all, outcome.dlq());
    assertKeyedEventsAreKeyedByCustomer(all, outcome.keyed());
    assertCountersMatch(all);
  }

  @Test
  void agreesWithTheOracleOnThousandsOfGeneratedEvents() {
    LoadSpec spec =
        LoadSpec.ofEvents(3000).withCustomers(150).withZipfSkew(1.1).withBadRatio(0.08).withSeed(7);
    EventStream stream = new LoadGenerator().events(spec);
    List<Input> inputs = new ArrayList<>();
    while (stream.hasNext()) {
      GeneratedEvent event = stream.nextEvent();
      inputs.add(
          new Input(
              event.key(),
              event.value(),
              event.isBad() ? event.badKind().expectedReason().name() : null));
    }

    Outcome outcome = run(inputs);

    assertThat(stream.bad()).isGreaterThan(100);
    assertThat(outcome.dlq()).hasSize((int) stream.bad());
    assertThat(outcome.keyed()).hasSize(3000 - (int) stream.bad());
    assertThat(outcome.profiles()).isEqualTo(oracleProfiles(inputs));
    assertDlqHoldsExactlyTheBadInputs(inputs, outcome.dlq());
    assertCountersMatch(inputs);
    assertThat(CustomerProfilePipeline.dlqEventCount(registry)).isEqualTo(stream.bad());
  }

  @Test
  void stateStageSkipsRecordsItCannotReadOrApplyAndGoesOn() {
    try (TopologyTestDriver state =
        new TopologyTestDriver(pipeline.stateTopology(), pipeline.stateProperties(base()))) {
      TestInputTopic<byte[], byte[]> keyed =
          state.createInputTopic(
              pipeline.keyedEventsTopic(), new ByteArraySerializer(), new ByteArraySerializer());
      keyed.pipeInput(utf8("c-1"), utf8("garbage"));
      // Keyed by another customer than the payload names: CustomerProfile.apply refuses it.
      keyed.pipeInput(utf8("c-1"), utf8("{\"customerId\":\"c-9\",\"type\":\"view\",\"ts\":1}"));
      keyed.pipeInput(utf8("c-1"), utf8("{\"customerId\":\"c-1\",\"type\":\"view\",\"ts\":5}"));

      KeyValueStore<String, CustomerProfile> store =
          state.getKeyValueStore(CustomerProfilePipeline.PROFILE_STORE);
      assertThat(store.get("c-1").counts()).isEqualTo(new EventCounts(1, 0, 0, 0));
      assertThat(store.get("c-9")).isNull();
      assertThat(store.approximateNumEntries()).isEqualTo(1);
    }
  }

  @Test
  void stagePropertiesCopyTheBaseAndSetIdsGuaranteeAndHandlers() {
    Properties defaults = new Properties();
    defaults.setProperty("client.rack", "rack-a");
    Properties base = new Properties(defaults);
    base.setProperty(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "broker:9092");
    base.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, "ignored");
    base.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, 2);

    Properties ingest = pipeline.ingestProperties(base);
    Properties state = pipeline.stateProperties(base);

    assertThat(ingest.get(StreamsConfig.APPLICATION_ID_CONFIG)).isEqualTo("profiles-test-ingest");
    assertThat(state.get(StreamsConfig.APPLICATION_ID_CONFIG)).isEqualTo("profiles-test");
    for (Properties stage : List.of(ingest, state)) {
      assertThat(stage.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG)).isEqualTo("broker:9092");
      assertThat(stage.get("client.rack")).isEqualTo("rack-a");
      assertThat(stage.get(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG)).isEqualTo(2);
      assertThat(stage.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)).isEqualTo("exactly_once_v2");
      assertThat(stage.get(StreamsConfig.REPLICATION_FACTOR_CONFIG)).isEqualTo("1");
      assertThat(stage)
          .containsKeys(
              StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
              StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
              StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG);
      // Kafka Streams accepts the result as a whole, handlers included.
      assertThat(new StreamsConfig(stage).productionExceptionHandler()).isNotNull();
    }
    assertThat(base.getProperty(StreamsConfig.APPLICATION_ID_CONFIG)).isEqualTo("ignored");
  }

  @Test
  void stageConfigsBuildWithoutKafkasGlobalHandlerWarning() {
    // StreamsConfig's constructor (kafka-streams 4.4.0) warns "Processing exception handler is not
    // enabled for the GlobalThread" for every config built without the global switch on, the
    // partition assignor's own included.
    Logger streamsConfigLog = (Logger) LoggerFactory.getLogger(StreamsConfig.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    streamsConfigLog.addAppender(logged);
    try {
      Properties base = new Properties();
      base.setProperty(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "broker:9092");
      for (Properties stage :
          List.of(pipeline.ingestProperties(base), pipeline.stateProperties(base))) {
        StreamsConfig config = new StreamsConfig(stage);
        // What Kafka Streams' partition assignor configures itself from (AssignorConfiguration
        // wraps the main consumer's settings in a StreamsConfig of its own).
        new StreamsConfig(config.getMainConsumerConfigs("group", "client", 0));
      }
    } finally {
      streamsConfigLog.detachAppender(logged);
    }

    assertThat(logged.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .noneMatch(message -> message.contains("not enabled for the GlobalThread"));
  }

  @Test
  void namesTheTopicsAndTheStoreAsDocumented() {
    assertThat(pipeline.keyedEventsTopic()).isEqualTo("profiles-test-keyed-events-g0");
    assertThat(CustomerProfilePipeline.keyedEventsTopic("app", 3)).isEqualTo("app-keyed-events-g3");
    String state = pipeline.stateTopology().describe().toString();
    assertThat(state).contains(CustomerProfilePipeline.PROFILE_STORE);
    assertThat(state).contains("profiles-test-keyed-events-g0");
    assertThat(state).doesNotContain("repartition");
    String ingest = pipeline.ingestTopology(registry).describe().toString();
    assertThat(ingest)
        .contains("customer-events", "customer-events-dlq", pipeline.keyedEventsTopic());
  }

  @Test
  void registersADlqCounterForEveryReasonAtZero() {
    pipeline.ingestTopology(registry);

    for (InvalidReason reason : InvalidReason.values()) {
      assertThat(dlqCount(reason)).as("DLQ counter for %s", reason).isZero();
    }
  }

  private Outcome run(List<Input> inputs) {
    try (TopologyTestDriver ingest =
            new TopologyTestDriver(
                pipeline.ingestTopology(registry), pipeline.ingestProperties(base()));
        TopologyTestDriver state =
            new TopologyTestDriver(pipeline.stateTopology(), pipeline.stateProperties(base()))) {
      TestInputTopic<byte[], byte[]> raw =
          ingest.createInputTopic(
              pipeline.settings().inputTopic(),
              new ByteArraySerializer(),
              new ByteArraySerializer());
      for (int i = 0; i < inputs.size(); i++) {
        Input input = inputs.get(i);
        Headers headers = new RecordHeaders().add("trace-id", utf8("trace-" + i));
        raw.pipeInput(
            new TestRecord<>(
                bytes(input.key()),
                bytes(input.value()),
                headers,
                Instant.ofEpochMilli(RECORD_TS)));
      }
      List<TestRecord<byte[], byte[]>> keyed =
          ingest
              .createOutputTopic(
                  pipeline.keyedEventsTopic(),
                  new ByteArrayDeserializer(),
                  new ByteArrayDeserializer())
              .readRecordsToList();
      List<TestRecord<byte[], byte[]>> dlq =
          ingest
              .createOutputTopic(
                  pipeline.settings().dlqTopic(),
                  new ByteArrayDeserializer(),
                  new ByteArrayDeserializer())
              .readRecordsToList();

      TestInputTopic<byte[], byte[]> keyedIn =
          state.createInputTopic(
              pipeline.keyedEventsTopic(), new ByteArraySerializer(), new ByteArraySerializer());
      keyed.forEach(keyedIn::pipeInput);
      Map<String, CustomerProfile> profiles = new HashMap<>();
      KeyValueStore<String, CustomerProfile> store =
          state.getKeyValueStore(CustomerProfilePipeline.PROFILE_STORE);
      try (KeyValueIterator<String, CustomerProfile> all = store.all()) {
        while (all.hasNext()) {
          KeyValue<String, CustomerProfile> entry = all.next();
          profiles.put(entry.key, entry.value);
        }
      }
      return new Outcome(keyed, dlq, profiles);
    }
  }

  private Properties base() {
    Properties base = new Properties();
    base.setProperty(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    base.setProperty(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    return base;
  }

  /**
   * The oracle: profiles straight from the raw JSON of the valid inputs, read with a plain Jackson
   * tree; money summed as BigDecimal and rounded per event, as the design says.
   */
  private static Map<String, CustomerProfile> oracleProfiles(List<Input> inputs) {
    Map<String, List<JsonNode>> byCustomer = new LinkedHashMap<>();
    for (Input input : inputs) {
      if (input.expectedCode() == null) {
        JsonNode event = readTree(input.value());
        byCustomer
            .computeIfAbsent(event.get("customerId").asText(), k -> new ArrayList<>())
            .add(event);
      }
    }
    Map<String, CustomerProfile> profiles = new HashMap<>();
    byCustomer.forEach(
        (customer, events) -> {
          Map<String, Long> counts = new HashMap<>();
          BigDecimal spend = BigDecimal.ZERO;
          long first = Long.MAX_VALUE;
          long last = Long.MIN_VALUE;
          List<String> skus = new ArrayList<>();
          for (JsonNode event : events) {
            String type = event.get("type").asText();
            counts.merge(type, 1L, Long::sum);
            BigDecimal amount =
                event.hasNonNull("amount")
                    ? event.get("amount").decimalValue().setScale(2, RoundingMode.HALF_UP)
                    : BigDecimal.ZERO;
            if (type.equals("order")) {
              spend = spend.add(amount);
            } else if (type.equals("return")) {
              spend = spend.subtract(amount);
            }
            long ts = event.hasNonNull("ts") ? event.get("ts").asLong() : RECORD_TS;
            first = Math.min(first, ts);
            last = Math.max(last, ts);
            if (event.hasNonNull("sku")) {
              skus.add(event.get("sku").asText());
            }
          }
          Collections.reverse(skus);
          profiles.put(
              customer,
              new CustomerProfile(
                  customer,
                  new EventCounts(
                      counts.getOrDefault("view", 0L),
                      counts.getOrDefault("cart", 0L),
                      counts.getOrDefault("order", 0L),
                      counts.getOrDefault("return", 0L)),
                  spend.movePointRight(2).longValueExact(),
                  first,
                  last,
                  skus.subList(0, Math.min(10, skus.size()))));
        });
    return profiles;
  }

  private static void assertDlqHoldsExactlyTheBadInputs(
      List<Input> inputs, List<TestRecord<byte[], byte[]>> dlq) {
    List<Integer> badOffsets = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      if (inputs.get(i).expectedCode() != null) {
        badOffsets.add(i);
      }
    }
    assertThat(dlq).hasSameSizeAs(badOffsets);
    for (int n = 0; n < dlq.size(); n++) {
      int offset = badOffsets.get(n);
      Input input = inputs.get(offset);
      TestRecord<byte[], byte[]> record = dlq.get(n);
      assertThat(record.key()).as("DLQ key %d", n).isEqualTo(bytes(input.key()));
      assertThat(record.value()).as("DLQ value %d", n).isEqualTo(bytes(input.value()));
      assertThat(header(record, CustomerProfilePipeline.DLQ_CODE_HEADER))
          .isEqualTo(input.expectedCode());
      assertThat(header(record, CustomerProfilePipeline.DLQ_SOURCE_HEADER))
          .isEqualTo("customer-events/0@" + offset);
      assertThat(header(record, CustomerProfilePipeline.DLQ_REASON_HEADER)).isNotBlank();
      assertThat(header(record, "trace-id")).isEqualTo("trace-" + offset);
    }
  }

  private static void assertKeyedEventsAreKeyedByCustomer(
      List<Input> inputs, List<TestRecord<byte[], byte[]>> keyed) {
    long valid = inputs.stream().filter(i -> i.expectedCode() == null).count();
    assertThat(keyed).hasSize((int) valid);
    for (TestRecord<byte[], byte[]> record : keyed) {
      String value = new String(record.value(), StandardCharsets.UTF_8);
      JsonNode event = readTree(value);
      assertThat(new String(record.key(), StandardCharsets.UTF_8))
          .isEqualTo(event.get("customerId").asText());
      assertThat(value).matches(".*\"amount\":[0-9]+\\.[0-9]{2}[,}].*");
      assertThat(event.has("ts")).isTrue();
    }
  }

  private void assertCountersMatch(List<Input> inputs) {
    Map<InvalidReason, Long> expected = new EnumMap<>(InvalidReason.class);
    for (InvalidReason reason : InvalidReason.values()) {
      expected.put(reason, 0L);
    }
    inputs.stream()
        .filter(i -> i.expectedCode() != null)
        .forEach(i -> expected.merge(InvalidReason.valueOf(i.expectedCode()), 1L, Long::sum));
    expected.forEach(
        (reason, count) ->
            assertThat(dlqCount(reason))
                .as("DLQ counter for %s", reason)
                .isEqualTo(count.doubleValue()));
  }

  private double dlqCount(InvalidReason reason) {
    return registry
        .get(CustomerProfilePipeline.DLQ_EVENTS_METRIC)
        .tag(CustomerProfilePipeline.DLQ_CODE_TAG, reason.name())
        .counter()
        .count();
  }

  private static String header(TestRecord<byte[], byte[]> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  private static String json(CustomerProfile profile) {
    return new String(CustomerProfileSerde.toJson(profile), StandardCharsets.UTF_8);
  }

  private static JsonNode readTree(String json) {
    try {
      return ORACLE_JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] bytes(String text) {
    return text == null ? null : utf8(text);
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
