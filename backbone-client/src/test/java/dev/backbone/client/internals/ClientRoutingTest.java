package dev.backbone.client.internals;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class ClientRoutingTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Property(tries = 2000)
  void aKeysPartitionIsTheOneTheProducersDefaultPartitionerPicks(
      @ForAll String key, @ForAll @IntRange(min = 1, max = 4096) int partitions) {
    byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
    assertThat(ClientRouting.partitionOf(key, partitions))
        .isEqualTo(BuiltInPartitioner.partitionForKey(utf8, partitions));
  }

  @Test
  void theOwnerOfAKeyIsTheUpMemberRunningItsTasksActive() throws Exception {
    ClientRouting routing =
        ClientRouting.parse(
            JSON.readTree(
                "{\"stores\":[{\"name\":\"s\",\"stage\":\"state\",\"subtopology\":0},"
                    + "{\"name\":\"unstarted\",\"stage\":\"state\"}]}"),
            JSON.readTree(
                "{\"stages\":[{\"stage\":\"state\",\"generation\":3,\"partitions\":{\"0\":2},"
                    + "\"members\":[{\"processId\":\"p1\",\"nodeId\":\"n1\",\"endpoint\":\"h1:1\",\"state\":\"UP\"},"
                    + "{\"processId\":\"p2\",\"nodeId\":\"n2\",\"endpoint\":\"h2:2\",\"state\":\"LEFT\"}],"
                    + "\"tasks\":[{\"task\":\"0_0\",\"active\":\"p1\",\"standbys\":[]},"
                    + "{\"task\":\"0_1\",\"active\":\"p2\",\"standbys\":[\"p1\"]}]}]}"));
    String onZero = key(0);
    String onOne = key(1);
    assertThat(routing.ownerOf("s", onZero))
        .contains(new ClientRouting.Owner("http://h1:1", "n1", 0));
    assertThat(routing.ownerOf("s", onOne)).as("its active's node has left").isEmpty();
    assertThat(routing.ownerOf("unstarted", onZero)).isEmpty();
    assertThat(routing.ownerOf("nope", onZero)).isEmpty();
    assertThat(routing.endpoints()).containsExactly("http://h1:1");
  }

  private static String key(int partition) {
    for (int i = 0; ; i++) {
      if (ClientRouting.partitionOf("k" + i, 2) == partition) {
        return "k" + i;
      }
    }
  }
}
