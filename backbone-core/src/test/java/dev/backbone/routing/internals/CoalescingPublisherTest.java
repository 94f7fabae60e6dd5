package dev.backbone.routing.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The hand-off between the group leader's assignor and the thread that publishes routing tables.
 * The deliveries model what {@code KafkaProducer#send} does when the topic has no metadata: it
 * waits in {@code waitOnMetadata} (up to {@code max.block.ms}), then fails with a {@link
 * TimeoutException} ("Topic ... not present in metadata after ... ms"); and it can be interrupted.
 */
class CoalescingPublisherTest {
  private static final Duration OFFER_BOUND = Duration.ofMillis(200);
  private static final Duration SETTLE = Duration.ofSeconds(10);
  private static final Duration MIN = Duration.ofMillis(10);
  private static final Duration MAX = Duration.ofMillis(40);

  private final List<String> delivered = new CopyOnWriteArrayList<>();
  private final List<Duration> retries = new CopyOnWriteArrayList<>();
  private final List<String> superseded = new CopyOnWriteArrayList<>();
  private final CoalescingPublisher.Listener<String> listener =
      new CoalescingPublisher.Listener<>() {
        @Override
        public void failed(String value, Exception failure, long attempt, Duration retryIn) {
          retries.add(retryIn);
        }

        @Override
        public void superseded(String value) {
          superseded.add(value);
        }
      };
  private CoalescingPublisher<String> publisher;

  @AfterEach
  void close() {
    if (publisher != null) {
      publisher.close(Duration.ofSeconds(5));
    }
  }

  @Test
  void anOfferReturnsAtOnceWhileADeliveryWaitsForTheBroker() throws Exception {
    StuckSend send = new StuckSend(false);
    publisher = start(send);
    publisher.offer("t1");
    send.awaitStarted();

    for (int i = 2; i <= 200; i++) {
      long start = System.nanoTime();
      assertThat(publisher.offer("t" + i)).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(OFFER_BOUND);
    }
    assertThat(publisher.waiting()).isTrue();
    send.metadataArrives();

    await().atMost(SETTLE).until(() -> !publisher.waiting());
    assertThat(delivered).containsExactly("t1", "t200");
    assertThat(publisher.coalesced()).isEqualTo(198);
  }

  @Test
  void aFailedDeliveryIsRetriedWithTheNewestValueOnceTheTopicIsBack() {
    AtomicBoolean topicExists = new AtomicBoolean(false);
    publisher =
        start(
            v -> {
              if (!topicExists.get()) {
                throw new TimeoutException("Topic routing not present in metadata after 10 ms.");
              }
              delivered.add(v);
            });
    publisher.offer("g1");
    await().atMost(SETTLE).until(() -> publisher.failedAttempts() >= 3);
    publisher.offer("g2");
    await().atMost(SETTLE).until(() -> publisher.failedAttempts() >= 5);
    assertThat(delivered).isEmpty();
    assertThat(publisher.waiting()).isTrue();

    topicExists.set(true);

    await().atMost(SETTLE).until(() -> !publisher.waiting());
    assertThat(delivered).containsExactly("g2");
    assertThat(publisher.lastDelivered()).contains("g2");
  }

  @Test
  void theWaitBetweenAttemptsDoublesUpToItsMaximumAndRestartsAfterASuccess() {
    AtomicBoolean fail = new AtomicBoolean(true);
    publisher =
        start(
            v -> {
              if (fail.get()) {
                throw new TimeoutException("no metadata");
              }
              delivered.add(v);
            });
    publisher.offer("a");
    await().atMost(SETTLE).until(() -> retries.size() >= 5);
    assertThat(List.copyOf(retries).subList(0, 5))
        .containsExactly(MIN, MIN.multipliedBy(2), MAX, MAX, MAX);

    fail.set(false);
    await().atMost(SETTLE).until(() -> delivered.contains("a"));
    fail.set(true);
    int before = retries.size();
    publisher.offer("b");
    await().atMost(SETTLE).until(() -> retries.size() > before);
    assertThat(retries.get(before)).isEqualTo(MIN);
  }

  @Test
  void aValueSupersededByAnotherLeadersIsDroppedUnsent() {
    publisher =
        new CoalescingPublisher<>(
            "test-publisher", delivered::add, v -> v.startsWith("old"), listener, MIN, MAX);

    publisher.offer("old-7");
    await().atMost(SETTLE).until(() -> publisher.superseded() == 1);
    publisher.offer("new-9");

    await().atMost(SETTLE).until(() -> delivered.contains("new-9"));
    assertThat(delivered).containsExactly("new-9");
    assertThat(superseded).containsExactly("old-7");
  }

  @Test
  void closeInterruptsADeliveryThatWaitsAndRefusesLaterOffers() throws Exception {
    StuckSend send = new StuckSend(false);
    publisher = start(send);
    publisher.offer("t1");
    send.awaitStarted();
    publisher.offer("t2");

    long start = System.nanoTime();
    assertThat(publisher.close(Duration.ofSeconds(5))).isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    assertThat(publisher.offer("t3")).isFalse();
    assertThat(publisher.waiting()).isFalse();
    assertThat(delivered).isEmpty();
  }

  @Test
  void closeGivesUpWaitingForADeliveryThatIgnoresInterrupts() throws Exception {
    StuckSend send = new StuckSend(true);
    publisher = start(send);
    publisher.offer("t1");
    send.awaitStarted();

    long start = System.nanoTime();
    assertThat(publisher.close(Duration.ofMillis(200))).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    send.metadataArrives();
  }

  /**
   * A send to a topic without metadata: it waits (as in {@code waitOnMetadata}) until the metadata
   * arrives, and stops when interrupted unless told to ignore interrupts.
   */
  private final class StuckSend implements CoalescingPublisher.Delivery<String> {
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch metadata = new CountDownLatch(1);
    private final boolean ignoresInterrupts;

    StuckSend(boolean ignoresInterrupts) {
      this.ignoresInterrupts = ignoresInterrupts;
    }

    @Override
    public void deliver(String value) throws InterruptedException {
      started.countDown();
      while (metadata.getCount() > 0) {
        try {
          metadata.await();
        } catch (InterruptedException e) {
          if (!ignoresInterrupts) {
            throw e;
          }
        }
      }
      delivered.add(value);
    }

    void awaitStarted() throws InterruptedException {
      assertThat(started.await(5, TimeUnit.SECONDS)).as("the first send started").isTrue();
    }

    void metadataArrives() {
      metadata.countDown();
    }
  }

  private CoalescingPublisher<String> start(CoalescingPublisher.Delivery<String> delivery) {
    return new CoalescingPublisher<>("test-publisher", delivery, v -> false, listener, MIN, MAX);
  }
}
