package dev.backbone.client.internals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.utils.Utils;

/**
 * The client's copy of a cluster's routing: which stage and subtopology holds each store ({@code
 * GET /v1/stores}), and each stage's routing table ({@code GET /v1/routing}): the partition count
 * of every subtopology and the node running each task's active replica.
 *
 * <p>A key's task is computed exactly as the producer's default partitioner and the server compute
 * it: {@code toPositive(murmur2(utf8(key))) % partitions}, with the producer's own murmur2. That
 * holds for stores with string keys serialized as UTF-8 (the server's {@code
 * QueryableStore.withStringKeys}); for a store of another key type the owner is unknown here and
 * the call goes to any node, which forwards it. A stale table only costs a hop: the server never
 * answers from a replica it should not, wherever a read arrives.
 *
 * @param stores each store's stage and subtopology, by store name
 * @param tables each stage's table, by stage name
 * @param endpoints every node the tables name as up, as {@code http://host:port}
 */
public record ClientRouting(
    Map<String, StoreEntry> stores, Map<String, StageTable> tables, List<String> endpoints) {

  /** Nothing known yet. */
  public static final ClientRouting EMPTY = new ClientRouting(Map.of(), Map.of(), List.of());

  /**
   * Where a store lives.
   *
   * @param stage its stage
   * @param subtopology its subtopology, -1 when the node did not say
   */
  public record StoreEntry(String stage, int subtopology) {}

  /**
   * One stage's routing table.
   *
   * @param generation its generation
   * @param partitions partition count by subtopology
   * @param activeEndpoints endpoint of each task's active ({@code "0_3"} to {@code http://h:p})
   * @param activeNodes node id of each task's active
   */
  public record StageTable(
      long generation,
      Map<Integer, Integer> partitions,
      Map<String, String> activeEndpoints,
      Map<String, String> activeNodes) {}

  /**
   * The owner of a key as this copy knows it.
   *
   * @param endpoint its endpoint
   * @param nodeId its node id
   * @param partition the key's partition
   */
  public record Owner(String endpoint, String nodeId, int partition) {}

  /** Builds a copy from the JSON of {@code GET /v1/stores} and {@code GET /v1/routing}. */
  public static ClientRouting parse(JsonNode storesAnswer, JsonNode routingAnswer) {
    return parse(storesAnswer, routingAnswer, "http");
  }

  /**
   * As {@link #parse(JsonNode, JsonNode)}, the nodes reached with {@code scheme} ({@code https} for
   * a cluster that serves TLS: every node of a cluster does or none).
   */
  public static ClientRouting parse(JsonNode storesAnswer, JsonNode routingAnswer, String scheme) {
    String prefix = scheme + "://";
    Map<String, StoreEntry> stores = new HashMap<>();
    for (JsonNode s : storesAnswer.path("stores")) {
      stores.put(
          s.path("name").asText(),
          new StoreEntry(s.path("stage").asText(), s.path("subtopology").asInt(-1)));
    }
    Map<String, StageTable> tables = new HashMap<>();
    LinkedHashSet<String> endpoints = new LinkedHashSet<>();
    for (JsonNode stage : routingAnswer.path("stages")) {
      Map<String, String> endpointByProcess = new HashMap<>();
      Map<String, String> nodeByProcess = new HashMap<>();
      for (JsonNode m : stage.path("members")) {
        String endpoint = m.path("endpoint").asText("");
        if ("UP".equals(m.path("state").asText()) && !endpoint.isEmpty()) {
          endpointByProcess.put(m.path("processId").asText(), prefix + endpoint);
          endpoints.add(prefix + endpoint);
        }
        nodeByProcess.put(m.path("processId").asText(), m.path("nodeId").asText());
      }
      Map<Integer, Integer> partitions = new HashMap<>();
      stage
          .path("partitions")
          .properties()
          .forEach(e -> partitions.put(Integer.parseInt(e.getKey()), e.getValue().asInt()));
      Map<String, String> activeEndpoints = new HashMap<>();
      Map<String, String> activeNodes = new HashMap<>();
      for (JsonNode t : stage.path("tasks")) {
        String active = t.path("active").asText("");
        if (endpointByProcess.containsKey(active)) {
          activeEndpoints.put(t.path("task").asText(), endpointByProcess.get(active));
          activeNodes.put(t.path("task").asText(), nodeByProcess.get(active));
        }
      }
      tables.put(
          stage.path("stage").asText(),
          new StageTable(
              stage.path("generation").asLong(), partitions, activeEndpoints, activeNodes));
    }
    return new ClientRouting(stores, tables, new ArrayList<>(endpoints));
  }

  /** The owner of a string key of a store; empty when this copy cannot tell. */
  public Optional<Owner> ownerOf(String store, String key) {
    StoreEntry entry = stores.get(store);
    if (entry == null || entry.subtopology() < 0) {
      return Optional.empty();
    }
    StageTable table = tables.get(entry.stage());
    if (table == null) {
      return Optional.empty();
    }
    Integer count = table.partitions().get(entry.subtopology());
    if (count == null || count < 1) {
      return Optional.empty();
    }
    int partition = partitionOf(key, count);
    String task = entry.subtopology() + "_" + partition;
    String endpoint = table.activeEndpoints().get(task);
    return endpoint == null
        ? Optional.empty()
        : Optional.of(new Owner(endpoint, table.activeNodes().get(task), partition));
  }

  /** The producer's default partitioner on a UTF-8 string key. */
  public static int partitionOf(String key, int partitions) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
  }
}
