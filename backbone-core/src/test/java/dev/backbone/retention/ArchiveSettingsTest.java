package dev.backbone.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.FatalBackboneException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ArchiveSettingsTest {

  @Test
  void badSettingsFailAtOpenNamingEveryProblemAtOnce() {
    ArchiveSettings bad =
        ArchiveSettings.of("s3://bucket/prefix")
            .withS3("ftp://host", null, "access", null, true)
            .withTransfers(0, 1 << 20, 1 << 20, -1)
            .withRetainGrace(Duration.ofSeconds(-1));

    assertThatThrownBy(() -> SnapshotArchives.open(bad))
        .isInstanceOfSatisfying(
            FatalBackboneException.class, e -> assertThat(e.code()).isEqualTo("BAD_CONFIG"))
        .hasMessageContaining("6 problems")
        .hasMessageContaining("endpoint 'ftp://host'")
        .hasMessageContaining("accessKey and secretKey go together")
        .hasMessageContaining("multipartPartBytes")
        .hasMessageContaining("parallelism")
        .hasMessageContaining("throttleBytesPerSecond")
        .hasMessageContaining("retainGrace");
  }

  @Test
  void aRelativeOrUnknownUriIsAProblemAndS3SettingsDoNotApplyToADirectory() {
    assertThat(ArchiveSettings.of("file:relative").problems())
        .singleElement()
        .asString()
        .contains("absolute");
    assertThat(ArchiveSettings.of("gs://bucket").problems())
        .singleElement()
        .asString()
        .contains("s3://");
    assertThat(
            ArchiveSettings.of("file:///tmp/a")
                .withS3("http://h:1", null, null, null, false)
                .problems())
        .singleElement()
        .asString()
        .contains("s3:// archives only");
  }

  @Test
  void theSecretKeyIsNeverPrinted() {
    ArchiveSettings settings =
        ArchiveSettings.of("s3://b").withS3(null, "eu-west-1", "AKID", "very-secret", false);

    assertThat(settings.toString()).contains("AKID").doesNotContain("very-secret");
    assertThat(settings.problems()).isEmpty();
  }
}
