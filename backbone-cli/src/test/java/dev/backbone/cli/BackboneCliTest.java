package dev.backbone.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

class BackboneCliTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "demo --nodes",
        "demo --nodez 3",
        "demo --duration forever",
        "demo --guarantee maybe",
        "demo --nodes 0",
        "demo --bad-ratio 2",
        "node --rack r",
        "kafka",
        "load --bootstrap-servers x:1",
        "load --bootstrap-servers x:1 --events 5 --duration 5s",
        "load --bootstrap-servers x:1 --events 5 --partitions 3",
        "load --bootstrap-servers x:1 --events 5 --create-topic --partitions 0",
        "bench throughput --events 0",
        "bench snapshot --sizes 12q",
        "bench bootstrap --state-mb 0",
        "bench bootstrap --updates-per-key -1",
        "bench bootstrap --timeout soon",
        "bench",
        "bench rescale --state-mb 0",
        "bench rescale --from 6 --to 6",
        "bench changelog-disk --hours-simulated 0",
        "bench changelog-disk --retention-hours 72",
        "bench changelog-disk --keys-per-hour 0",
        "bench changelog-disk --delete-percent 101",
        "bench changelog-disk --zipf 0",
        "bench changelog-disk --settle-timeout soon",
        "rescale --app-id a --node http://127.0.0.1:1 --bootstrap-servers b --cluster-secret s",
        "rescale --app-id a --node http://127.0.0.1:1 --bootstrap-servers b --cluster-secret s"
            + " --partitions 3 --resume",
        "rescale --app-id a --node http://127.0.0.1:1 --bootstrap-servers b --cluster-secret s"
            + " --partitions 0",
        "rescale --app-id a --node nohost --bootstrap-servers b --cluster-secret s --partitions 3",
        "rescale --node http://127.0.0.1:1 --bootstrap-servers b --cluster-secret s --partitions 3",
        "bench rescale --load-rate -1",
        "changelogs --bootstrap-servers b --app-id a",
        "changelogs --bootstrap-servers b --app-id a --retention 24h --report",
        "changelogs --bootstrap-servers b --app-id a --retention 0s",
        "changelogs --bootstrap-servers b --app-id a --retention soon",
        "changelogs --bootstrap-servers b --app-id a --report --archive ftp://x/y",
        "changelogs --app-id a --report",
        "node --bootstrap-servers b --changelog-retention soon",
        "frobnicate"
      })
  void badFlagsGiveOneLineErrorAndExitTwo(String args) {
    CliRun run = CliRun.run(args.split(" "));

    assertThat(run.exit().join()).isEqualTo(2);
    assertThat(run.err().lines().toList()).hasSize(2).first().asString().startsWith("backbone ");
    assertThat(run.err()).contains("--help");
    assertThat(run.out()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--help",
        "demo --help",
        "node --help",
        "kafka --help",
        "load --help",
        "bench --help",
        "bench throughput --help",
        "bench snapshot --help",
        "bench bootstrap --help",
        "bench rescale --help",
        "bench changelog-disk --help",
        "rescale --help",
        "changelogs --help"
      })
  void everyCommandHasHelp(String args) {
    CliRun run = CliRun.run(args.split(" "));

    assertThat(run.exit().join()).isZero();
    assertThat(run.out()).contains("Usage: backbone");
  }

  @Test
  void anUnsafeChangelogRetentionIsRefusedInOneLineBeforeAnyBrokerIsAsked() {
    CliRun run =
        CliRun.run(
            "changelogs",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--app-id",
            "a",
            "--retention",
            "2h",
            "--snapshot-interval",
            "1h");

    assertThat(run.exit().join()).isEqualTo(1);
    assertThat(run.err().lines().toList()).hasSize(1);
    assertThat(run.err())
        .startsWith("backbone changelogs: ")
        .contains("shorter than 3 snapshot intervals of 1h");
  }

  @Test
  void aRescaleOfAClusterThatDoesNotAnswerFailsInOneLineWithStatusOne() {
    CliRun run =
        CliRun.run(
            "rescale",
            "--app-id",
            "a",
            "--node",
            "http://127.0.0.1:1",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--cluster-secret",
            "0123456789abcdef",
            "--partitions",
            "3");

    assertThat(run.exit().join()).isEqualTo(1);
    assertThat(run.err().lines().toList()).hasSize(1);
    assertThat(run.err()).startsWith("backbone rescale: ").contains("127.0.0.1:1");
  }

  @Test
  void durationsReadTheWayPeopleWriteThem() {
    DurationConverter c = new DurationConverter();

    assertThat(c.convert("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(c.convert("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.convert("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.convert("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(c.convert("PT1M")).isEqualTo(Duration.ofMinutes(1));
    assertThatThrownBy(() -> c.convert("0s")).isInstanceOf(TypeConversionException.class);
    assertThatThrownBy(() -> c.convert("soon"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("soon");
  }

  @Test
  void sizesReadTheWayPeopleWriteThem() {
    ByteSizeConverter c = new ByteSizeConverter();

    assertThat(c.convert("512k")).isEqualTo(512L << 10);
    assertThat(c.convert("128m")).isEqualTo(128L << 20);
    assertThat(c.convert("1g")).isEqualTo(1L << 30);
    assertThat(c.convert("4096")).isEqualTo(4096L);
    assertThatThrownBy(() -> c.convert("0m")).isInstanceOf(TypeConversionException.class);
    assertThatThrownBy(() -> c.convert("big")).isInstanceOf(TypeConversionException.class);
  }

  @Test
  void guaranteesAcceptTheirShortNames() {
    GuaranteeConverter c = new GuaranteeConverter();

    assertThat(c.convert("eos")).isEqualTo("exactly_once_v2");
    assertThat(c.convert("ALOS")).isEqualTo("at_least_once");
    assertThatThrownBy(() -> c.convert("exactly_once")).isInstanceOf(TypeConversionException.class);
  }
}
