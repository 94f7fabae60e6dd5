package dev.backbone.server.internals;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy in front of one port that a test can kill: {@link #kill()} closes the
 * listening socket and every open connection at once, as a peer process dying does (its kernel
 * resets the connections), while the server behind it keeps running.
 */
final class KillableTcpProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final Thread acceptor;
  private final AtomicInteger rangeRequests = new AtomicInteger();
  private final long answerBytesPerSecond;
  private volatile boolean frozen;

  /**
   * @param targetPort the loopback port to forward to
   * @param answerBytesPerSecond pace of the answers back to the client, so that bytes are still on
   *     their way (not already in the client's buffers) when the proxy is killed
   */
  KillableTcpProxy(int targetPort, long answerBytesPerSecond) throws IOException {
    this.targetPort = targetPort;
    this.answerBytesPerSecond = answerBytesPerSecond;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::accept, "test-proxy-" + targetPort);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        sockets.add(client);
        sockets.add(server);
        pump(client, server, true);
        pump(server, client, false);
      } catch (IOException e) {
        return;
      }
    }
  }

  /** Requests that asked for a byte range (seen on their way to the server). */
  int rangeRequests() {
    return rangeRequests.get();
  }

  private void pump(Socket from, Socket to, boolean requests) {
    Thread t =
        new Thread(
            () -> {
              byte[] buffer = new byte[16 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                  if (requests
                      && new String(buffer, 0, n, StandardCharsets.ISO_8859_1)
                          .toLowerCase(Locale.ROOT)
                          .contains("\r\nrange: bytes=")) {
                    rangeRequests.incrementAndGet();
                  }
                  while (!requests && frozen && !to.isClosed()) {
                    Thread.sleep(20);
                  }
                  out.write(buffer, 0, n);
                  if (!requests) {
                    Thread.sleep(n * 1000L / answerBytesPerSecond);
                  }
                }
              } catch (IOException e) {
                // killed, or the other side closed
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "test-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  /**
   * Stops passing answers on without closing anything: a peer that hangs mid-body (a network
   * partition, a frozen process). Requests still reach the server; their answers wait.
   */
  void freeze() {
    frozen = true;
  }

  /** Closes the listener and every connection, with a reset rather than a clean close. */
  void kill() {
    closeQuietly(listener);
    dropConnections();
  }

  /** Resets every open connection but keeps accepting new ones: a network blip. */
  void dropConnections() {
    for (Socket s : sockets) {
      try {
        s.setSoLinger(true, 0);
      } catch (IOException e) {
        // already closed
      }
      closeQuietly(s);
      sockets.remove(s);
    }
  }

  @Override
  public void close() {
    kill();
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // closing anyway
    }
  }
}
