package dev.backbone.examples.profiles;

import dev.backbone.errors.FatalBackboneException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.kafka.streams.StreamsConfig;

/**
 * What a {@link CustomerProfilePipeline} is built from. Checked on construction; every problem is
 * reported at once.
 *
 * @param applicationId the state stage's {@code application.id}; also the prefix of the ingest
 *     stage's id and of the keyed-events topic. Letters, digits, '.', '_', '-' only.
 * @param inputTopic where raw events arrive, default {@value #DEFAULT_INPUT_TOPIC}
 * @param dlqTopic where malformed events go, default {@value #DEFAULT_DLQ_TOPIC}
 * @param partitions partitions of the topics Backbone creates, default {@value
 *     #DEFAULT_PARTITIONS}; the keyed-events topic's count is the state stage's task count
 * @param replicationFactor of the topics Backbone creates, default {@value
 *     #DEFAULT_REPLICATION_FACTOR}
 * @param guarantee {@code exactly_once_v2} (default) or {@code at_least_once}
 * @param store the state stage's key-value store, {@link StoreKind#BACKBONE} by default
 */
public record PipelineSettings(
    String applicationId,
    String inputTopic,
    String dlqTopic,
    int partitions,
    short replicationFactor,
    String guarantee,
    StoreKind store) {

  /** Default input topic. */
  public static final String DEFAULT_INPUT_TOPIC = "customer-events";

  /** Default dead-letter topic. */
  public static final String DEFAULT_DLQ_TOPIC = "customer-events-dlq";

  /** Default partition count. */
  public static final int DEFAULT_PARTITIONS = 12;

  /** Default replication factor. */
  public static final short DEFAULT_REPLICATION_FACTOR = 1;

  /** Default processing guarantee. */
  public static final String DEFAULT_GUARANTEE = StreamsConfig.EXACTLY_ONCE_V2;

  private static final Pattern LEGAL_NAME = Pattern.compile("[a-zA-Z0-9._-]+");

  /** Leaves room under Kafka's 249-character topic limit for the names derived from the id. */
  private static final int MAX_APPLICATION_ID_LENGTH = 200;

  private static final int MAX_TOPIC_LENGTH = 249;

  /**
   * Checks every setting.
   *
   * @throws FatalBackboneException with code {@code BAD_CONFIG} listing every problem
   */
  public PipelineSettings {
    List<String> problems = new ArrayList<>();
    if (applicationId == null || !LEGAL_NAME.matcher(applicationId).matches()) {
      problems.add(
          "applicationId must be non-empty and use only letters, digits, '.', '_', '-', got "
              + quoted(applicationId));
    } else if (applicationId.length() > MAX_APPLICATION_ID_LENGTH) {
      problems.add(
          "applicationId must be at most "
              + MAX_APPLICATION_ID_LENGTH
              + " characters, got "
              + applicationId.length());
    }
    checkTopic("inputTopic", inputTopic, problems);
    checkTopic("dlqTopic", dlqTopic, problems);
    if (inputTopic != null && inputTopic.equals(dlqTopic)) {
      problems.add("inputTopic and dlqTopic must differ, both are " + quoted(inputTopic));
    }
    if (partitions < 1) {
      problems.add("partitions must be >= 1, got " + partitions);
    }
    if (replicationFactor < 1) {
      problems.add("replicationFactor must be >= 1, got " + replicationFactor);
    }
    if (!StreamsConfig.EXACTLY_ONCE_V2.equals(guarantee)
        && !StreamsConfig.AT_LEAST_ONCE.equals(guarantee)) {
      problems.add(
          "guarantee must be "
              + StreamsConfig.EXACTLY_ONCE_V2
              + " or "
              + StreamsConfig.AT_LEAST_ONCE
              + ", got "
              + quoted(guarantee));
    }
    if (store == null) {
      problems.add("store must be backbone or stock, got null");
    }
    if (!problems.isEmpty()) {
      throw new FatalBackboneException(
          "BAD_CONFIG",
          "invalid customer-profile pipeline settings: "
              + String.join("; ", problems)
              + ". Fix these settings and start again.");
    }
  }

  /** Settings with the default store, {@link StoreKind#BACKBONE}. */
  public PipelineSettings(
      String applicationId,
      String inputTopic,
      String dlqTopic,
      int partitions,
      short replicationFactor,
      String guarantee) {
    this(
        applicationId,
        inputTopic,
        dlqTopic,
        partitions,
        replicationFactor,
        guarantee,
        StoreKind.BACKBONE);
  }

  /** A copy with another store kind. */
  public PipelineSettings withStore(StoreKind kind) {
    return new PipelineSettings(
        applicationId, inputTopic, dlqTopic, partitions, replicationFactor, guarantee, kind);
  }

  /** The defaults for an application id. */
  public static PipelineSettings defaults(String applicationId) {
    return new PipelineSettings(
        applicationId,
        DEFAULT_INPUT_TOPIC,
        DEFAULT_DLQ_TOPIC,
        DEFAULT_PARTITIONS,
        DEFAULT_REPLICATION_FACTOR,
        DEFAULT_GUARANTEE);
  }

  /** A copy with another input topic. */
  public PipelineSettings withInputTopic(String topic) {
    return new PipelineSettings(
        applicationId, topic, dlqTopic, partitions, replicationFactor, guarantee, store);
  }

  /** A copy with another dead-letter topic. */
  public PipelineSettings withDlqTopic(String topic) {
    return new PipelineSettings(
        applicationId, inputTopic, topic, partitions, replicationFactor, guarantee, store);
  }

  /** A copy with another partition count. */
  public PipelineSettings withPartitions(int count) {
    return new PipelineSettings(
        applicationId, inputTopic, dlqTopic, count, replicationFactor, guarantee, store);
  }

  /** A copy with another replication factor. */
  public PipelineSettings withReplicationFactor(short factor) {
    return new PipelineSettings(
        applicationId, inputTopic, dlqTopic, partitions, factor, guarantee, store);
  }

  /** A copy with another processing guarantee. */
  public PipelineSettings withGuarantee(String processingGuarantee) {
    return new PipelineSettings(
        applicationId,
        inputTopic,
        dlqTopic,
        partitions,
        replicationFactor,
        processingGuarantee,
        store);
  }

  private static void checkTopic(String setting, String topic, List<String> problems) {
    if (topic == null || !LEGAL_NAME.matcher(topic).matches()) {
      problems.add(
          setting
              + " must be a topic name of letters, digits, '.', '_', '-', got "
              + quoted(topic));
    } else if (topic.length() > MAX_TOPIC_LENGTH || topic.equals(".") || topic.equals("..")) {
      problems.add(setting + " is not a legal topic name: " + quoted(topic));
    }
  }

  private static String quoted(String value) {
    return value == null ? "null" : "\"" + value + "\"";
  }
}
