package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.errors.RetriableBackboneException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;

class PeerForwarderTest {

  @Test
  void aPeerThatAcceptsButNeverAnswersFailsTheForwardAtTheDeadlineAsOwnerUnreachable()
      throws Exception {
    List<Socket> held = Collections.synchronizedList(new ArrayList<>());
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        PeerForwarder forwarder =
            new PeerForwarder("node-x", Duration.ofMillis(300), Optional.empty())) {
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  while (true) {
                    held.add(silent.accept());
                  }
                } catch (Exception closed) {
                  // the test is over
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
      long start = System.nanoTime();
      CompletableFuture<PeerForwarder.ForwardedAnswer> answer =
          forwarder.get(
              new HostInfo("127.0.0.1", silent.getLocalPort()), "/v1/stores/s/keys/k", Map.of());
      assertThat(answer).isNotDone();
      Throwable failure = null;
      try {
        answer.get(5, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        failure = e.getCause();
      }
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(failure)
          .isInstanceOf(RetriableBackboneException.class)
          .hasMessageContaining("did not answer (no answer within 300 ms)");
      assertThat(tookMs).isBetween(250L, 3_000L);
    } finally {
      synchronized (held) {
        for (Socket s : held) {
          s.close();
        }
      }
    }
  }
}
