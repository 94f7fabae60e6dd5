package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.FatalBackboneException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

class RoutingCodecTest {
  @Property(tries = 300)
  void aTableSurvivesEncodingAndDecoding(
      @ForAll @IntRange(min = 0, max = 40) int members,
      @ForAll @IntRange(min = 0, max = 4) int subtopologies,
      @ForAll @IntRange(min = 1, max = 64) int partitions,
      @ForAll @IntRange(min = 0, max = 3) int standbys,
      @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long generation,
      @ForAll long seed) {
    RoutingTable table =
        randomTable(new Random(seed), generation, members, subtopologies, partitions, standbys);

    RoutingTable decoded = RoutingCodec.decodeTable(RoutingCodec.encode(table));

    assertThat(decoded).isEqualTo(table);
  }

  @Property(tries = 100)
  void aMemberSurvivesEncodingAndDecoding(
      @ForAll String nodeId, @ForAll String rack, @ForAll @LongRange(min = 0) long at) {
    Member member =
        new Member(
            nodeId.isBlank() ? "n" + nodeId : nodeId, rack, "host:7070", MemberState.LEFT, at);

    assertThat(RoutingCodec.decodeMember(RoutingCodec.encode(member))).isEqualTo(member);
  }

  @Property(tries = 100)
  void everyAnnouncedStateSurvivesEncodingAndDecoding(
      @ForAll("announcedStates") MemberState state, @ForAll @LongRange(min = 0) long at) {
    Member member = new Member("node-1", "rack-a", "host:7070", state, at);

    assertThat(RoutingCodec.decodeMember(RoutingCodec.encode(member))).isEqualTo(member);
  }

  @Provide
  Arbitrary<MemberState> announcedStates() {
    return Arbitraries.of(MemberState.UP, MemberState.LEFT);
  }

  @Test
  void aMembershipRecordIsTheDocumentedVersion1Layout() {
    // byte version 1, string nodeId, string rack, string endpoint, byte state, varint updatedMs
    byte[] v1 = {1, 1, 'n', 1, 'r', 3, 'h', ':', '1', 1, (byte) 0xAC, 0x02};
    Member member = new Member("n", "r", "h:1", MemberState.LEFT, 300);

    assertThat(RoutingCodec.encode(member)).containsExactly(v1);
    assertThat(RoutingCodec.decodeMember(v1)).isEqualTo(member);
  }

  @Test
  void refusesAStateThatIsNotOneByteOfAKnownState() {
    // 0x81 is no state. Read as a varint it would take the next byte with it (0x81 0x00 is a
    // long-winded 1, LEFT), shifting every later field: the state is one byte, as written.
    byte[] bytes = {1, 1, 'n', 1, 'r', 3, 'h', ':', '1', (byte) 0x81, 0x00, 0x05};

    assertThatThrownBy(() -> RoutingCodec.decodeMember(bytes))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("could not be decoded");
  }

  @Test
  void refusesBytesAfterAMembershipRecord() {
    byte[] record = RoutingCodec.encode(new Member("n", "", "h:1", MemberState.UP, 1));
    byte[] longer = java.util.Arrays.copyOf(record, record.length + 1);

    assertThatThrownBy(() -> RoutingCodec.decodeMember(longer))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("after the membership record");
  }

  @Test
  void aTableAt400NodesTimes3ThreadsStaysSmall() {
    RoutingTable table = randomTable(new Random(1), 42, 400, 2, 2_400, 1);

    // 4,800 tasks with one standby each, 400 processes: varints and a process-id dictionary.
    assertThat(RoutingCodec.encode(table).length).isLessThan(40_000);
  }

  @Test
  void refusesAnUnknownFormatVersion() {
    byte[] bytes = RoutingCodec.encode(RoutingTable.empty("app"));
    bytes[0] = 9;

    assertThatThrownBy(() -> RoutingCodec.decodeTable(bytes))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("format version 9");
  }

  @Test
  void refusesATruncatedTable() {
    byte[] bytes = RoutingCodec.encode(randomTable(new Random(2), 3, 3, 1, 8, 1));
    byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 3);

    assertThatThrownBy(() -> RoutingCodec.decodeTable(cut))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("could not be decoded");
  }

  @Test
  void fillsGapsSoThatThePartitionCountIsThatOfTheTopic() {
    UUID p = UUID.randomUUID();
    RoutingTable table =
        new RoutingTable(
            "app",
            1,
            0,
            List.of(new RoutedMember(p, "node-1", "")),
            List.of(new TaskRoute(new TaskId(0, 3), Optional.of(p), List.of())));

    assertThat(table.partitionCounts()).containsEntry(0, 4);
    assertThat(table.route(new TaskId(0, 1))).contains(TaskRoute.unassigned(new TaskId(0, 1)));
    assertThat(RoutingCodec.decodeTable(RoutingCodec.encode(table))).isEqualTo(table);
  }

  static RoutingTable randomTable(
      Random random,
      long generation,
      int memberCount,
      int subtopologies,
      int partitions,
      int standbys) {
    List<RoutedMember> members = new ArrayList<>();
    for (int i = 0; i < memberCount; i++) {
      members.add(
          new RoutedMember(
              new UUID(random.nextLong(), random.nextLong()),
              "node-" + i,
              random.nextBoolean() ? "" : "rack-" + (i % 3)));
    }
    List<TaskRoute> tasks = new ArrayList<>();
    for (int s = 0; s < subtopologies; s++) {
      for (int p = 0; p < partitions; p++) {
        List<UUID> shuffled =
            new ArrayList<>(members.stream().map(RoutedMember::processId).toList());
        Collections.shuffle(shuffled, random);
        Optional<UUID> active =
            shuffled.isEmpty() || random.nextInt(10) == 0
                ? Optional.empty()
                : Optional.of(shuffled.remove(0));
        int n = Math.min(standbys, shuffled.size());
        tasks.add(new TaskRoute(new TaskId(s, p), active, shuffled.subList(0, n)));
      }
    }
    return new RoutingTable(
        "app-" + memberCount, generation, random.nextInt(1 << 30), members, tasks);
  }
}
