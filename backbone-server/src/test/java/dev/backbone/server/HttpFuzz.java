package dev.backbone.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Random HTTP requests against a node: methods, paths built from the real routes with random and
 * broken segments, query strings, headers and bodies, sent over a raw socket so that nothing is
 * cleaned up on the way. Every answer must be complete within the deadline and must not be a 5xx
 * other than 503. The seed is in every failure message.
 */
final class HttpFuzz {
  private static final int DEADLINE_MS = 10_000;
  private static final List<String> METHODS =
      List.of(
          "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
          "FOO");
  private static final List<String> TEMPLATES =
      List.of(
          "/v1/stores",
          "/v1/stores/{store}",
          "/v1/stores/{store}/keys/{key}",
          "/v1/stores/{store}/keys",
          "/v1/stores/{store}/keys:batchGet",
          "/v1/stores/{store}/range",
          "/v1/stores/{store}/prefix/{key}",
          "/v1/stores/{store}/prefix",
          "/v1/cluster",
          "/v1/routing",
          "/v1/openapi.json",
          "/metrics",
          "/health/live",
          "/health/ready",
          "/internal/v1/snapshots/{key}/{store}",
          "/{key}",
          "//v1//stores/{store}/keys/{key}",
          "/v1/stores/{store}/keys/{key}/{key}");
  private static final List<String> PARAMS =
      List.of("limit", "cursor", "partition", "from", "to", "staleOk", "minPosition", "lags", "x");

  private final int port;
  private final String store;
  private final String token;
  private final long seed;
  private final Random random;

  HttpFuzz(int port, String store, String token, long seed) {
    this.port = port;
    this.store = store;
    this.token = token;
    this.seed = seed;
    this.random = new Random(seed);
  }

  /** Sends {@code count} random requests and checks every answer. */
  void run(int count) throws IOException {
    for (int i = 0; i < count; i++) {
      String method = pick(METHODS);
      String path = path();
      byte[] body = method.equals("GET") && random.nextInt(4) > 0 ? new byte[0] : body();
      String request = method + " " + path;
      int status = send(method, path, headers(body.length), body, request, i);
      assertThat(status >= 500 && status != 503)
          .as("seed %d, request %d: %s answered %d", seed, i, abbreviate(request), status)
          .isFalse();
    }
  }

  private String path() {
    String template = pick(TEMPLATES);
    String path =
        template
            .replace("{store}", random.nextInt(3) == 0 ? segment() : store)
            .replace("{key}", segment());
    if (random.nextBoolean()) {
      StringBuilder query = new StringBuilder("?");
      int n = 1 + random.nextInt(4);
      for (int i = 0; i < n; i++) {
        query.append(i == 0 ? "" : "&").append(pick(PARAMS)).append('=').append(value());
      }
      path += query;
    }
    return path;
  }

  private String segment() {
    return switch (random.nextInt(8)) {
      case 0 -> "c-" + random.nextInt(100);
      case 1 -> "%" + Integer.toHexString(random.nextInt(256));
      case 2 -> "%zz%";
      case 3 -> "a".repeat(random.nextInt(3000));
      case 4 -> percentEncoded(randomBytes(random.nextInt(40)));
      case 5 -> "..";
      case 6 -> "%F0%9F%98%80-%C3%A9";
      default -> "";
    };
  }

  private String value() {
    return switch (random.nextInt(7)) {
      case 0 -> Integer.toString(random.nextInt(200_000) - 100);
      case 1 -> "true";
      case 2 -> "AQ" + percentEncoded(randomBytes(random.nextInt(30)));
      case 3 -> "%";
      case 4 -> "";
      case 5 -> "99999999999999999999";
      default -> segment();
    };
  }

  private byte[] body() {
    String body =
        switch (random.nextInt(6)) {
          case 0 -> "{\"keys\":[\"c-1\",\"c-2\"]}";
          case 1 -> "{\"keys\":[" + random.nextInt() + ",null,{}]}";
          case 2 -> "{\"keys\":\"" + "k".repeat(random.nextInt(6000)) + "\"}";
          case 3 -> "[[[[[[[[[[";
          case 4 -> "";
          default -> new String(randomBytes(random.nextInt(200)), StandardCharsets.ISO_8859_1);
        };
    return body.getBytes(StandardCharsets.ISO_8859_1);
  }

  private Map<String, String> headers(int bodyLength) {
    Map<String, String> headers = new java.util.LinkedHashMap<>();
    switch (random.nextInt(4)) {
      case 0 -> headers.put("Authorization", "Bearer " + token);
      case 1 -> headers.put("Authorization", "Bearer " + segment());
      case 2 -> headers.put("Authorization", "Basic " + segment());
      default -> {}
    }
    if (random.nextBoolean()) {
      headers.put("Content-Type", pick(List.of("application/json", "text/plain", "x/y; q=", "")));
    }
    if (random.nextInt(5) == 0) {
      headers.put("Accept", pick(List.of("application/octet-stream", "*/*", "text/html")));
    }
    headers.put("Content-Length", Integer.toString(bodyLength));
    return headers;
  }

  private int send(
      String method, String path, Map<String, String> headers, byte[] body, String what, int n)
      throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), DEADLINE_MS);
      socket.setSoTimeout(DEADLINE_MS);
      OutputStream out = socket.getOutputStream();
      StringBuilder head =
          new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      head.append("Connection: close\r\n\r\n");
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(body);
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      in.transferTo(answer);
      String text = answer.toString(StandardCharsets.ISO_8859_1);
      assertThat(text)
          .as("seed %d, request %d: %s got no HTTP answer", seed, n, abbreviate(what))
          .startsWith("HTTP/1.1 ");
      return Integer.parseInt(text.substring(9, 12));
    } catch (SocketTimeoutException e) {
      throw new AssertionError(
          "seed "
              + seed
              + ", request "
              + n
              + ": "
              + abbreviate(what)
              + " hung for "
              + DEADLINE_MS
              + " ms",
          e);
    }
  }

  private byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    random.nextBytes(bytes);
    return bytes;
  }

  private static String percentEncoded(byte[] bytes) {
    StringBuilder out = new StringBuilder();
    for (byte b : bytes) {
      out.append('%').append(String.format("%02X", b & 0xFF));
    }
    return out.toString();
  }

  private <T> T pick(List<T> options) {
    return options.get(random.nextInt(options.size()));
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 197) + "...";
  }
}
