package dev.backbone.kafka.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * TCP ports on the loopback address.
 *
 * <p>A port found free here is free only until someone else binds it; the broker binds it moments
 * later, and {@link EmbeddedKafkaBroker} retries with fresh ports when it loses that race on a port
 * it chose itself.
 */
final class LocalPorts {
  static final String HOST = "127.0.0.1";

  private LocalPorts() {}

  /** Distinct ports that were free a moment ago; all are held open together so none repeats. */
  static List<Integer> pickFree(int count) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      List<Integer> ports = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST));
        held.add(socket);
        ports.add(socket.getLocalPort());
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port on " + HOST, e);
    } finally {
      for (ServerSocket socket : held) {
        try {
          socket.close();
        } catch (IOException e) {
          // Closing a listening socket that never accepted a connection does not fail in
          // practice; if it did, the port would simply stay taken and the broker would retry.
        }
      }
    }
  }

  /** Whether a listener could bind {@code HOST:port} right now. */
  static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(HOST, port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
