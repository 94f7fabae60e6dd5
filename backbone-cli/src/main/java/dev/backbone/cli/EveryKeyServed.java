package dev.backbone.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.routing.KeyToTask;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Whether every node of a cluster serves every key right now, checked the way a user reads: one
 * {@code GET /v1/stores/<store>/keys/<key>} to every node for a key of every partition.
 *
 * <p>What must hold: it says yes only when a read of any key on any node would be answered, not
 * 503. So it trusts no state flag (RUNNING, a routing table, a health check), each of which is true
 * before the reads are, but the answers themselves: 200, or 404 {@code KEY_NOT_FOUND}, which only
 * the key's active owner gives after it looked ({@code KeyReadRouter.readLocal}); a node that
 * forwards relays that answer. Anything else (503 REBALANCING or OWNER_UNREACHABLE, another 404, a
 * connection refused, a timeout) is a no. One key per partition covers every task of the store,
 * because the key's partition is computed exactly as routing does ({@link KeyToTask}).
 */
final class EveryKeyServed {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);

  private final String store;
  private final List<Integer> httpPorts;
  private final List<String> keys;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(READ_TIMEOUT).build();

  /**
   * @param store the queryable store to read
   * @param httpPorts each node's HTTP port on 127.0.0.1
   * @param keys one key of every partition, see {@link #customerIdPerPartition}
   */
  EveryKeyServed(String store, List<Integer> httpPorts, List<String> keys) {
    this.store = store;
    this.httpPorts = List.copyOf(httpPorts);
    this.keys = List.copyOf(keys);
  }

  /**
   * For every partition {@code p} of {@code partitions}, the first customer id {@code c-i} whose
   * records go to {@code p}, in partition order.
   */
  static List<String> customerIdPerPartition(int partitions) {
    String[] byPartition = new String[partitions];
    int found = 0;
    for (int i = 0; found < partitions; i++) {
      String id = "c-" + i;
      int p = KeyToTask.partition(id.getBytes(StandardCharsets.UTF_8), partitions);
      if (byPartition[p] == null) {
        byPartition[p] = id;
        found++;
      }
    }
    return List.of(byPartition);
  }

  /** One round of reads: true if every node answered every key; stops at the first no. */
  boolean holds() {
    for (int port : httpPorts) {
      for (String key : keys) {
        if (!answered(port, key)) {
          return false;
        }
      }
    }
    return true;
  }

  private boolean answered(int port, String key) {
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/v1/stores/" + store + "/keys/" + key))
            .timeout(READ_TIMEOUT)
            .GET()
            .build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    if (response.statusCode() == 200) {
      return true;
    }
    // The server's error code for a key its owner does not hold (HttpErrors.KEY_NOT_FOUND).
    return response.statusCode() == 404 && "KEY_NOT_FOUND".equals(errorCode(response.body()));
  }

  private static String errorCode(String body) {
    try {
      JsonNode code = JSON.readTree(body).path("error").path("code");
      return code.isTextual() ? code.asText() : null;
    } catch (IOException e) {
      return null;
    }
  }
}
