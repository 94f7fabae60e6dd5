package dev.backbone.server.internals;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.config.BackboneConfig;
import dev.backbone.errors.BackboneException;
import dev.backbone.server.EventTopic;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/events}: appends a batch of JSON events to an application's event topic, with one
 * result per event.
 *
 * <p>What must hold: every event of a well-formed batch gets exactly one result, in the order sent,
 * that says truthfully what became of it — written (partition and offset, acknowledged by every
 * in-sync replica), refused before it was sent ({@code BAD_EVENT}: not an object, no key), not
 * written ({@code WRITE_FAILED}: safe to send again), or unknown ({@code WRITE_UNKNOWN}: it may be
 * in the topic; sending it again may count it twice). Events are sent in the order of the batch
 * through one idempotent producer, so events of one key keep their order. The request thread does
 * not wait: the answer is sent when the last acknowledgement (or failure) arrives.
 */
final class EventAppender {
  private static final Logger log = LoggerFactory.getLogger(EventAppender.class);

  private final String nodeId;
  private final Map<String, EventTopic> topics;
  private final TopicWriter writer;
  private final ObjectMapper mapper;
  private final HttpErrors errors;
  private final int maxEvents;
  private final int maxKeyBytes;

  EventAppender(
      String nodeId,
      List<EventTopic> eventTopics,
      TopicWriter writer,
      ObjectMapper mapper,
      HttpErrors errors,
      int maxEvents,
      int maxKeyBytes) {
    this.nodeId = nodeId;
    Map<String, EventTopic> byName = new TreeMap<>();
    eventTopics.forEach(t -> byName.put(t.name(), t));
    this.topics = Map.copyOf(byName);
    this.writer = writer;
    this.mapper = mapper;
    this.errors = errors;
    this.maxEvents = maxEvents;
    this.maxKeyBytes = maxKeyBytes;
  }

  /** The names of the event topics. */
  List<String> names() {
    return List.copyOf(new TreeMap<>(topics).keySet());
  }

  /**
   * Appends the events of a request body.
   *
   * @param topicName the {@code topic} parameter, empty when the call named none
   * @param body the request body, {@code {"events": [ {...}, ... ]}}
   * @return the answer, once every event has its result
   * @throws dev.backbone.errors.FatalBackboneException {@code EVENT_TOPIC_NOT_FOUND}, {@code
   *     BAD_REQUEST} or {@code LIMIT_EXCEEDED} for a call that appends nothing
   */
  CompletableFuture<EventsAnswer> append(Optional<String> topicName, byte[] body) {
    EventTopic topic = topic(topicName);
    List<JsonNode> events = events(body);
    List<CompletableFuture<EventResult>> results = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      results.add(appendOne(topic, i, events.get(i)));
    }
    return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
        .thenApply(
            done -> {
              List<EventResult> out = results.stream().map(CompletableFuture::join).toList();
              int failed = (int) out.stream().filter(r -> r.error() != null).count();
              return new EventsAnswer(nodeId, topic.topic(), out.size() - failed, failed, out);
            });
  }

  private CompletableFuture<EventResult> appendOne(EventTopic topic, int index, JsonNode event) {
    String key;
    byte[] value;
    try {
      if (event == null || !event.isObject()) {
        throw new IllegalArgumentException(
            "an event is a JSON object, not " + (event == null ? "null" : event.getNodeType()));
      }
      key = topic.keyOf().apply(event);
      if (key == null) {
        throw new IllegalArgumentException("the event has no key");
      }
      KeyCodec.checkLength(key, maxKeyBytes);
      value = mapper.writeValueAsBytes(event);
    } catch (IllegalArgumentException | JsonProcessingException e) {
      return CompletableFuture.completedFuture(
          EventResult.refused(
              index,
              HttpErrors.BAD_EVENT,
              "Event " + index + " was not appended: " + e.getMessage() + "."));
    } catch (BackboneException e) {
      // BAD_KEY: the key is too long or not valid Unicode.
      return CompletableFuture.completedFuture(
          EventResult.refused(
              index,
              HttpErrors.BAD_EVENT,
              "Event " + index + " was not appended: " + e.getMessage()));
    } catch (RuntimeException e) {
      log.error("the key function of event topic '{}' failed on event {}", topic.name(), index, e);
      return CompletableFuture.completedFuture(
          EventResult.refused(
              index,
              HttpErrors.BAD_EVENT,
              "Event " + index + " was not appended: its key could not be found (" + e + ")."));
    }
    return writer
        .send(topic.topic(), key.getBytes(StandardCharsets.UTF_8), value)
        .handle(
            (written, failure) -> {
              if (failure == null) {
                return new EventResult(
                    index, key, written.partition(), written.offset(), null, null);
              }
              ApiError error = errors.toApiError(HttpApi.unwrap(failure));
              return new EventResult(
                  index,
                  key,
                  null,
                  null,
                  error.status(),
                  new ApiError.Detail(error.code(), error.message()));
            });
  }

  private EventTopic topic(Optional<String> name) {
    if (topics.isEmpty()) {
      throw HttpErrors.fatal(
          HttpErrors.EVENT_TOPIC_NOT_FOUND,
          "This application takes no events over HTTP (it declared no EventTopic).");
    }
    if (name.isEmpty()) {
      if (topics.size() == 1) {
        return topics.values().iterator().next();
      }
      throw HttpErrors.fatal(
          HttpErrors.BAD_REQUEST,
          "This application has several event topics; name one with ?topic=, one of "
              + names()
              + ".");
    }
    EventTopic topic = topics.get(name.get());
    if (topic == null) {
      throw HttpErrors.fatal(
          HttpErrors.EVENT_TOPIC_NOT_FOUND,
          "No event topic '"
              + KeyCodec.abbreviate(name.get())
              + "' on this application; known: "
              + names()
              + ".");
    }
    return topic;
  }

  private List<JsonNode> events(byte[] body) {
    JsonNode root;
    try {
      root = body == null || body.length == 0 ? null : mapper.readTree(body);
    } catch (IOException e) {
      throw HttpErrors.fatal(HttpErrors.BAD_REQUEST, shape("it is not JSON"));
    }
    JsonNode events = root == null ? null : root.get("events");
    if (events == null || !events.isArray()) {
      throw HttpErrors.fatal(HttpErrors.BAD_REQUEST, shape("it has no 'events' array"));
    }
    if (events.isEmpty()) {
      throw HttpErrors.fatal(HttpErrors.BAD_REQUEST, shape("its 'events' array is empty"));
    }
    if (events.size() > maxEvents) {
      throw HttpErrors.fatal(
          HttpErrors.LIMIT_EXCEEDED,
          "One POST /v1/events carries at most "
              + maxEvents
              + " events ("
              + BackboneConfig.HTTP_MAX_BATCH_EVENTS_CONFIG
              + "); this one carries "
              + events.size()
              + ".");
    }
    List<JsonNode> out = new ArrayList<>(events.size());
    events.forEach(out::add);
    return out;
  }

  private static String shape(String problem) {
    return "The body of POST /v1/events is JSON {\"events\": [{...}, {...}]}; " + problem + ".";
  }

  /**
   * The answer of {@code POST /v1/events}.
   *
   * @param node the node that appended them
   * @param topic the Kafka topic
   * @param written how many events were written
   * @param failed how many were not (or may not have been): look at their results
   * @param results one per event, in the order sent
   */
  record EventsAnswer(
      String node, String topic, int written, int failed, List<EventResult> results) {}

  /**
   * What became of one event.
   *
   * @param index its place in the batch, from 0
   * @param key its key (absent when it had none)
   * @param partition where it was written
   * @param offset its offset there
   * @param status for an event not (surely) written: 400 refused, 503 failed or unknown
   * @param error for an event not (surely) written: {@code BAD_EVENT}, {@code WRITE_FAILED} (not
   *     written, safe to send again) or {@code WRITE_UNKNOWN} (may have been written)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record EventResult(
      int index,
      String key,
      Integer partition,
      Long offset,
      Integer status,
      ApiError.Detail error) {
    static EventResult refused(int index, String code, String message) {
      return new EventResult(
          index, null, null, null, HttpErrors.statusOf(code), new ApiError.Detail(code, message));
    }
  }
}
