package dev.backbone.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** A small HTTP client for tests: well-formed requests via the JDK client, malformed ones raw. */
public final class HttpProbe {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
  private final int port;

  /**
   * @param port the node's HTTP port on 127.0.0.1
   */
  public HttpProbe(int port) {
    this.port = port;
  }

  /** GETs a well-formed path. */
  public Reply get(String path) {
    return send("GET", path);
  }

  /** GETs a well-formed path with extra request headers. */
  public Reply get(String path, Map<String, String> headers) {
    return send("GET", path, headers);
  }

  /** Sends a body-less request with any method to a well-formed path. */
  public Reply send(String method, String path) {
    return send(method, path, Map.of());
  }

  /** POSTs a body to a well-formed path, with extra request headers. */
  public Reply post(String path, String body, Map<String, String> headers) {
    return send("POST", path, headers, HttpRequest.BodyPublishers.ofString(body));
  }

  /** Sends a request with any method, a body and extra headers to a well-formed path. */
  public Reply send(String method, String path, String body, Map<String, String> headers) {
    return send(method, path, headers, HttpRequest.BodyPublishers.ofString(body));
  }

  /** Sends a body-less request with any method and extra headers to a well-formed path. */
  public Reply send(String method, String path, Map<String, String> requestHeaders) {
    return send(method, path, requestHeaders, HttpRequest.BodyPublishers.noBody());
  }

  private Reply send(
      String method,
      String path,
      Map<String, String> requestHeaders,
      HttpRequest.BodyPublisher body) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .method(method, body)
            .timeout(TIMEOUT);
    requestHeaders.forEach(builder::header);
    HttpRequest request = builder.build();
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      Map<String, String> headers = new LinkedHashMap<>();
      response
          .headers()
          .map()
          .forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(",", v)));
      return new Reply(response.statusCode(), headers, response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * GETs a path exactly as given, even if it is not a valid URI (the JDK client refuses those),
   * over a raw socket with {@code Connection: close}.
   */
  public Reply getRaw(String rawPath) {
    return getRaw(rawPath, Map.of());
  }

  /** As {@link #getRaw(String)}, with extra request headers. */
  public Reply getRaw(String rawPath, Map<String, String> requestHeaders) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), (int) TIMEOUT.toMillis());
      socket.setSoTimeout((int) TIMEOUT.toMillis());
      OutputStream out = socket.getOutputStream();
      StringBuilder request =
          new StringBuilder("GET " + rawPath + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      requestHeaders.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
      request.append("Connection: close\r\n\r\n");
      out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      String raw = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      int split = raw.indexOf("\r\n\r\n");
      String head = raw.substring(0, split);
      String body = raw.substring(split + 4);
      String[] lines = head.split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.put(
            lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
            lines[i].substring(colon + 1).trim());
      }
      if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        body = dechunk(body);
      }
      return new Reply(status, headers, body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String dechunk(String body) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (true) {
      int eol = body.indexOf("\r\n", i);
      int size = Integer.parseInt(body.substring(i, eol).trim(), 16);
      if (size == 0) {
        return out.toString();
      }
      out.append(body, eol + 2, eol + 2 + size);
      i = eol + 2 + size + 2;
    }
  }

  /**
   * One answer.
   *
   * @param status HTTP status
   * @param headers headers, names in lower case
   * @param body the body
   */
  public record Reply(int status, Map<String, String> headers, String body) {
    /** The body as JSON. */
    public JsonNode json() {
      try {
        return MAPPER.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }

    /** A header, if present. */
    public Optional<String> header(String name) {
      return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
    }

    /** The error code of an error answer. */
    public String errorCode() {
      return json().path("error").path("code").asText();
    }

    @Override
    public String toString() {
      return status + " " + headers + " " + body;
    }
  }
}
