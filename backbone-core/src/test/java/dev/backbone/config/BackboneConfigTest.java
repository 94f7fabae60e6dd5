package dev.backbone.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.FatalBackboneException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackboneConfigTest {

  @Test
  void appliesDefaultsAndIgnoresKafkaStreamsSettings() {
    BackboneConfig config = BackboneConfig.of(Map.of("application.id", "app", "client.rack", "r"));

    assertThat(config.httpPort()).isEqualTo(7070);
    assertThat(config.nodeId()).isEqualTo("node-1");
    assertThat(config.httpAdvertisedHost()).isEqualTo("127.0.0.1");
  }

  @Test
  void advertisesLoopbackWhenBoundToTheWildcardAddress() {
    BackboneConfig config = BackboneConfig.of(Map.of(BackboneConfig.HTTP_HOST_CONFIG, "0.0.0.0"));

    assertThat(config.httpAdvertisedHost()).isEqualTo("127.0.0.1");
  }

  @Test
  void reportsEveryUnknownSettingAtOnce() {
    assertThatThrownBy(
            () -> BackboneConfig.of(Map.of("backbone.htp.port", "1", "backbone.nod.id", "x")))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("backbone.htp.port")
        .hasMessageContaining("backbone.nod.id")
        .satisfies(e -> assertThat(((FatalBackboneException) e).code()).isEqualTo("BAD_CONFIG"));
  }

  @Test
  void rejectsAnOutOfRangePortWithTheSettingName() {
    assertThatThrownBy(() -> BackboneConfig.of(Map.of(BackboneConfig.HTTP_PORT_CONFIG, "70000")))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining(BackboneConfig.HTTP_PORT_CONFIG);
  }

  @Test
  void aReplacedSettingSaysWhatToSetInstead() {
    assertThatThrownBy(
            () -> BackboneConfig.of(Map.of("backbone.store.max.uncommitted.bytes", "1000")))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("'backbone.store.max.uncommitted.bytes' was replaced")
        .hasMessageContaining("statestore.uncommitted.max.bytes");
  }
}
