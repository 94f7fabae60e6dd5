package dev.backbone.routing;

import dev.backbone.errors.FatalBackboneException;
import dev.backbone.routing.internals.Varints;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.streams.processor.TaskId;

/**
 * The binary encoding of routing tables and membership records, as written to the routing and
 * members topics.
 *
 * <p>Routing table, format version 1 (all numbers unsigned varints unless noted):
 *
 * <pre>
 *   byte      format version (1)
 *   varint    generation, createdMs
 *   string    applicationId                        (varint byte length + UTF-8)
 *   varint    member count M
 *   M times   uuid (16 raw bytes), string nodeId, string rack      -- the process-id dictionary
 *   varint    subtopology count S
 *   S times   varint subtopology id, varint partition count P
 *             P times (partition 0..P-1): varint active (0 = none, i+1 = member i),
 *                                         varint standby count, that many member indexes
 * </pre>
 *
 * Task ids are implied by position, and every process id is written once, however many tasks it
 * runs: at 400 nodes x 3 threads and 4,800 tasks with one standby, a table is about 30 KB.
 *
 * <p>Membership record, format version 1: byte version, string nodeId, string rack, string
 * endpoint, byte state (the {@link MemberState} ordinal: append new states, never reorder them),
 * varint updatedMs. The state is one raw byte, written and read as such; nothing may follow.
 *
 * <p>A reader refuses a version it does not know with {@code BAD_ROUTING_RECORD}; a new version
 * must be readable by the previous release before any node writes it.
 */
public final class RoutingCodec {
  /** The format version this release writes. */
  public static final byte TABLE_FORMAT_VERSION = 1;

  /** The membership record version this release writes. */
  public static final byte MEMBER_FORMAT_VERSION = 1;

  private RoutingCodec() {}

  /** Encodes a table. */
  public static byte[] encode(RoutingTable table) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + table.tasks().size() * 4);
    out.write(TABLE_FORMAT_VERSION);
    Varints.writeLong(out, table.generation());
    Varints.writeLong(out, table.createdMs());
    Varints.writeString(out, table.applicationId());
    Map<UUID, Integer> index = new HashMap<>();
    Varints.writeInt(out, table.members().size());
    for (RoutedMember m : table.members()) {
      index.put(m.processId(), index.size());
      Varints.writeUuid(out, m.processId());
      Varints.writeString(out, m.nodeId());
      Varints.writeString(out, m.rack());
    }
    Map<Integer, Integer> counts = table.partitionCounts();
    Varints.writeInt(out, counts.size());
    int next = 0;
    for (Map.Entry<Integer, Integer> sub : counts.entrySet()) {
      Varints.writeInt(out, sub.getKey());
      Varints.writeInt(out, sub.getValue());
      for (int p = 0; p < sub.getValue(); p++) {
        TaskRoute route = table.tasks().get(next++);
        Varints.writeInt(out, route.active().map(a -> index.get(a) + 1).orElse(0));
        Varints.writeInt(out, route.standbys().size());
        for (UUID s : route.standbys()) {
          Varints.writeInt(out, index.get(s));
        }
      }
    }
    return out.toByteArray();
  }

  /**
   * Decodes a table.
   *
   * @throws FatalBackboneException {@code BAD_ROUTING_RECORD} if the bytes are not a table of a
   *     known format version
   */
  public static RoutingTable decodeTable(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    try {
      byte version = in.get();
      if (version != TABLE_FORMAT_VERSION) {
        throw unknownVersion("routing table", version, TABLE_FORMAT_VERSION);
      }
      long generation = Varints.readLong(in);
      long createdMs = Varints.readLong(in);
      String applicationId = Varints.readString(in);
      int memberCount = Varints.readInt(in, in.remaining());
      List<RoutedMember> members = new ArrayList<>(memberCount);
      for (int i = 0; i < memberCount; i++) {
        members.add(
            new RoutedMember(Varints.readUuid(in), Varints.readString(in), Varints.readString(in)));
      }
      int subtopologies = Varints.readInt(in, in.remaining());
      List<TaskRoute> tasks = new ArrayList<>();
      for (int s = 0; s < subtopologies; s++) {
        int sub = Varints.readInt(in, Integer.MAX_VALUE);
        int partitions = Varints.readInt(in, in.remaining());
        for (int p = 0; p < partitions; p++) {
          int active = Varints.readInt(in, memberCount);
          int standbyCount = Varints.readInt(in, memberCount);
          List<UUID> standbys = new ArrayList<>(standbyCount);
          for (int i = 0; i < standbyCount; i++) {
            standbys.add(members.get(Varints.readInt(in, memberCount - 1)).processId());
          }
          Optional<UUID> activeId =
              active == 0 ? Optional.empty() : Optional.of(members.get(active - 1).processId());
          tasks.add(new TaskRoute(new TaskId(sub, p), activeId, standbys));
        }
      }
      if (in.hasRemaining()) {
        throw new IllegalArgumentException(in.remaining() + " bytes after the table");
      }
      return new RoutingTable(applicationId, generation, createdMs, members, tasks);
    } catch (RuntimeException e) {
      throw bad("routing table", e);
    }
  }

  /** Encodes a membership record. */
  public static byte[] encode(Member member) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64);
    out.write(MEMBER_FORMAT_VERSION);
    Varints.writeString(out, member.nodeId());
    Varints.writeString(out, member.rack());
    Varints.writeString(out, member.endpoint());
    out.write(member.state().ordinal());
    Varints.writeLong(out, member.updatedMs());
    return out.toByteArray();
  }

  /**
   * Decodes a membership record.
   *
   * @throws FatalBackboneException {@code BAD_ROUTING_RECORD} if the bytes are not a record of a
   *     known format version
   */
  public static Member decodeMember(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    try {
      byte version = in.get();
      if (version != MEMBER_FORMAT_VERSION) {
        throw unknownVersion("membership record", version, MEMBER_FORMAT_VERSION);
      }
      String nodeId = Varints.readString(in);
      String rack = Varints.readString(in);
      String endpoint = Varints.readString(in);
      int stateByte = Byte.toUnsignedInt(in.get());
      if (stateByte >= MemberState.values().length) {
        throw new IllegalArgumentException("no member state has the code " + stateByte);
      }
      long updatedMs = Varints.readLong(in);
      if (in.hasRemaining()) {
        throw new IllegalArgumentException(in.remaining() + " bytes after the membership record");
      }
      return new Member(nodeId, rack, endpoint, MemberState.values()[stateByte], updatedMs);
    } catch (RuntimeException e) {
      throw bad("membership record", e);
    }
  }

  private static RuntimeException unknownVersion(String what, byte version, byte known) {
    return new FatalBackboneException(
        "BAD_ROUTING_RECORD",
        "A "
            + what
            + " of format version "
            + version
            + " cannot be read by this release (it reads version "
            + known
            + "); upgrade every node before any node writes a newer format.");
  }

  private static RuntimeException bad(String what, RuntimeException cause) {
    if (cause instanceof FatalBackboneException f) {
      return f;
    }
    return new FatalBackboneException(
        "BAD_ROUTING_RECORD",
        "A " + what + " could not be decoded (" + cause.getMessage() + "); the record is skipped.",
        cause);
  }
}
