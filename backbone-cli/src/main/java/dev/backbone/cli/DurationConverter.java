package dev.backbone.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads durations written as people write them: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h},
 * or ISO-8601 ({@code PT1M}).
 */
final class DurationConverter implements ITypeConverter<Duration> {
  private static final Pattern SIMPLE = Pattern.compile("(\\d+)(ms|s|m|h)");

  @Override
  public Duration convert(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    Matcher m = SIMPLE.matcher(v);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      Duration d =
          switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
          };
      return requirePositive(value, d);
    }
    try {
      return requirePositive(value, Duration.parse(value.trim().toUpperCase(Locale.ROOT)));
    } catch (java.time.format.DateTimeParseException e) {
      throw new TypeConversionException(
          "'" + value + "' is not a duration; use e.g. 500ms, 30s, 5m, 2h or PT1M");
    }
  }

  private static Duration requirePositive(String value, Duration d) {
    if (d.isZero() || d.isNegative()) {
      throw new TypeConversionException("'" + value + "' must be a positive duration");
    }
    return d;
  }
}
