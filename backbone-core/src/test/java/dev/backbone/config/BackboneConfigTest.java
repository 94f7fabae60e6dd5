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

  @Test
  void aBoundedChangelogNeedsAnArchiveAndThreeSnapshotIntervalsAndSaysSoAtOnce() {
    assertThatThrownBy(
            () ->
                BackboneConfig.of(
                    Map.of(
                        BackboneConfig.CHANGELOG_RETENTION_MS_CONFIG, "7200000",
                        BackboneConfig.SNAPSHOT_INTERVAL_MS_CONFIG, "3600000")))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("safe only with a snapshot archive: set backbone.archive.uri")
        .hasMessageContaining("is shorter than 3 x backbone.snapshot.interval.ms=3600000")
        .hasMessageContaining("at least 10800000");
    BackboneConfig ok =
        BackboneConfig.of(
            Map.of(
                BackboneConfig.CHANGELOG_RETENTION_MS_CONFIG, "10800000",
                BackboneConfig.SNAPSHOT_INTERVAL_MS_CONFIG, "3600000",
                BackboneConfig.ARCHIVE_URI_CONFIG, "file:///var/backbone/archive"));
    assertThat(ok.changelogRetention()).contains(java.time.Duration.ofHours(3));
    assertThat(ok.archiveSettings().orElseThrow().isS3()).isFalse();
    assertThat(BackboneConfig.of(Map.of()).changelogRetention()).isEmpty();
  }

  @Test
  void aBadArchiveIsRefusedWithEveryProblem() {
    assertThatThrownBy(
            () ->
                BackboneConfig.of(
                    Map.of(
                        BackboneConfig.ARCHIVE_URI_CONFIG, "s3:///no-bucket",
                        BackboneConfig.ARCHIVE_S3_ACCESS_KEY_CONFIG, "only-the-id")))
        .isInstanceOf(FatalBackboneException.class)
        .hasMessageContaining("must name a bucket")
        .hasMessageContaining("accessKey and secretKey go together");
    assertThatThrownBy(
            () -> BackboneConfig.of(Map.of(BackboneConfig.ARCHIVE_URI_CONFIG, "ftp://x/y")))
        .hasMessageContaining("must start with file: or s3://");
    BackboneConfig s3 =
        BackboneConfig.of(
            Map.of(
                BackboneConfig.ARCHIVE_URI_CONFIG, "s3://bucket/prefix",
                BackboneConfig.ARCHIVE_S3_ENDPOINT_CONFIG, "http://127.0.0.1:9000",
                BackboneConfig.ARCHIVE_S3_PATH_STYLE_CONFIG, "true"));
    assertThat(s3.archiveSettings().orElseThrow().endpoint()).isEqualTo("http://127.0.0.1:9000");
    assertThat(s3.archiveSettings().orElseThrow().pathStyle()).isTrue();
  }
}
