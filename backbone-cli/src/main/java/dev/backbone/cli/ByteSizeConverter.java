package dev.backbone.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads sizes as people write them: {@code 512k}, {@code 128m}, {@code 1g}, or plain bytes. */
final class ByteSizeConverter implements ITypeConverter<Long> {
  private static final Pattern SIZE = Pattern.compile("(\\d+)([kmg]?)i?b?");

  @Override
  public Long convert(String value) {
    Matcher m = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new TypeConversionException(
          "'" + value + "' is not a size; use e.g. 512k, 128m, 1g or a number of bytes");
    }
    long n = Long.parseLong(m.group(1));
    int shift =
        switch (m.group(2)) {
          case "k" -> 10;
          case "m" -> 20;
          case "g" -> 30;
          default -> 0;
        };
    if (n <= 0 || Long.numberOfLeadingZeros(n) <= shift) {
      throw new TypeConversionException("'" + value + "' must be a positive size");
    }
    return n << shift;
  }
}
