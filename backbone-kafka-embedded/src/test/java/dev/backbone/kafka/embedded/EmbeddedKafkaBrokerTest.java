package dev.backbone.kafka.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaBrokerTest {

  @Test
  void buildRequiresADataDir() {
    assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("dataDir");
  }

  @Test
  void refusesToOverrideSettingsTheBuilderDerives() {
    EmbeddedKafkaBroker.Builder builder = EmbeddedKafkaBroker.builder();
    for (String key : new String[] {"listeners", "log.dirs", "node.id", "broker.rack"}) {
      assertThatThrownBy(() -> builder.property(key, "x"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(key);
    }
  }

  @Test
  void rejectsPortsOutsideTheTcpRange() {
    assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().port(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().port(65_536))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anUnstartedBrokerHasNoAddressButKnowsItsDataDir() {
    EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder().dataDir(Path.of("relative/dir")).build();
    assertThat(broker.dataDir().isAbsolute()).isTrue();
    assertThat(broker.dataDir().endsWith(Path.of("relative", "dir"))).isTrue();
    assertThatThrownBy(broker::bootstrapServers)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not started");
    broker.close();
  }
}
