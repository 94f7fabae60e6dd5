package dev.backbone.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.testkit.ReadChecker;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A tiny JSON-over-HTTP client for tests. */
final class HttpJson {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  record Response(int status, JsonNode body) {}

  /** A key read's answer as the {@link ReadChecker} sees it. */
  static ReadChecker.Answer<JsonNode> keyRead(int port, String path) {
    HttpResponse<String> response = send(port, path);
    return ReadChecker.httpAnswer(
        response.statusCode(),
        response.headers().firstValue("Retry-After").orElse(null),
        response.body());
  }

  private HttpJson() {}

  static Response get(int port, String path) {
    HttpResponse<String> response = send(port, path);
    String body = response.body();
    try {
      return new Response(
          response.statusCode(), body.isBlank() ? JSON.nullNode() : JSON.readTree(body));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The body of a GET answered with 200, as text (e.g. {@code /metrics}). */
  static String getText(int port, String path) {
    HttpResponse<String> response = send(port, path);
    if (response.statusCode() != 200) {
      throw new IllegalStateException(path + " answered " + response.statusCode());
    }
    return response.body();
  }

  private static HttpResponse<String> send(int port, String path) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10))
            .GET()
            .build();
    try {
      return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
