package dev.backbone.bench.assignment.streamsinternals;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.internals.assignment.AssignmentInfo;
import org.apache.kafka.streams.processor.internals.assignment.StreamsAssignmentProtocolVersions;
import org.apache.kafka.streams.state.HostInfo;

/** Sizes of one consumer's assignment as Kafka Streams encodes it (its {@code userData}). */
public final class StreamsAssignmentEncoder {
  /** The version Kafka Streams 4.3 sends. */
  public static final int LATEST = StreamsAssignmentProtocolVersions.LATEST_SUPPORTED_VERSION;

  /** The last version before the host-map dictionary encoding (Kafka Streams 2.3 and older). */
  public static final int PRE_2_4 = 4;

  private StreamsAssignmentEncoder() {}

  /**
   * Encoded bytes of one consumer's {@code AssignmentInfo}.
   *
   * @param version the protocol version
   * @param active the consumer's active tasks
   * @param standby the consumer's standby tasks and their partitions
   * @param activeByHost every host's active partitions (empty without {@code application.server})
   * @param standbyByHost every host's standby partitions (empty without it)
   */
  public static int encodedSize(
      int version,
      List<TaskId> active,
      Map<TaskId, Set<TopicPartition>> standby,
      Map<HostInfo, Set<TopicPartition>> activeByHost,
      Map<HostInfo, Set<TopicPartition>> standbyByHost) {
    return new AssignmentInfo(version, version, active, standby, activeByHost, standbyByHost, 0)
        .encode()
        .remaining();
  }
}
