package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

class MembershipTest {
  private static final UUID P1 = UUID.randomUUID();
  private static final UUID P2 = UUID.randomUUID();

  @Test
  void aJoiningNodeIsUpAndResolvesItsProcess() {
    Membership membership =
        Membership.empty().with(new Member("node-1", "rack-a", "h1:7071", MemberState.UP, 10));

    assertThat(membership.upMembers()).extracting(Member::nodeId).containsExactly("node-1");
    assertThat(membership.resolve(table()))
        .first()
        .satisfies(
            m -> {
              assertThat(m.processId()).isEqualTo(P1);
              assertThat(m.endpoint()).contains("h1:7071");
              assertThat(m.rack()).isEqualTo("rack-a");
              assertThat(m.state()).isEqualTo(MemberState.UP);
            });
  }

  @Test
  void aLeavingNodeStaysKnownAsLeft() {
    Member up = new Member("node-1", "rack-a", "h1:7071", MemberState.UP, 10);
    Membership membership = Membership.empty().with(up).with(up.withState(MemberState.LEFT, 20));

    assertThat(membership.upMembers()).isEmpty();
    assertThat(membership.member("node-1")).map(Member::state).contains(MemberState.LEFT);
    assertThat(membership.resolve(table()).get(0).state()).isEqualTo(MemberState.LEFT);
  }

  @Test
  void anOlderRecordDoesNotUndoANewerOne() {
    Member up = new Member("node-1", "", "h1:7071", MemberState.UP, 10);
    Membership left = Membership.empty().with(up.withState(MemberState.LEFT, 20));

    assertThat(left.with(up)).isEqualTo(left);
  }

  @Test
  void aRejoinAfterLeavingIsUpAgainAtItsNewEndpoint() {
    Member up = new Member("node-1", "", "h1:7071", MemberState.UP, 10);
    Membership rejoined =
        Membership.empty()
            .with(up)
            .with(up.withState(MemberState.LEFT, 20))
            .with(new Member("node-1", "", "h1:7099", MemberState.UP, 30));

    assertThat(rejoined.member("node-1")).map(Member::endpoint).contains("h1:7099");
    assertThat(rejoined.upMembers()).hasSize(1);
  }

  @Test
  void aProcessWithoutAnnouncedNodeIsUnknownWithoutEndpoint() {
    Membership membership =
        Membership.empty().with(new Member("node-1", "", "h1:7071", MemberState.UP, 10));

    Membership.ResolvedMember second = membership.resolve(table()).get(1);
    assertThat(second.nodeId()).isEqualTo("node-2");
    assertThat(second.endpoint()).isEmpty();
    assertThat(second.state()).isEqualTo(MemberState.UNKNOWN);
  }

  @Test
  void theCacheAppliesTablesInLogOrderUnlessPinned() {
    RoutingCache cache = new RoutingCache("app");
    RoutingTable first = table().withGeneration(1);
    RoutingTable second = table().withGeneration(2);
    cache.accept(first);
    cache.pin(first);
    cache.accept(second);

    assertThat(cache.table()).isEqualTo(first);
    assertThat(cache.highestGenerationSeen()).isEqualTo(2);
    cache.unpin();
    assertThat(cache.table()).isEqualTo(second);
  }

  private static RoutingTable table() {
    return new RoutingTable(
        "app",
        1,
        0,
        List.of(new RoutedMember(P1, "node-1", ""), new RoutedMember(P2, "node-2", "rack-b")),
        List.of(
            new TaskRoute(new TaskId(0, 0), Optional.of(P1), List.of(P2)),
            new TaskRoute(new TaskId(0, 1), Optional.of(P2), List.of(P1))));
  }
}
