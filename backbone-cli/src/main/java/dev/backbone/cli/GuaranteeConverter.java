package dev.backbone.cli;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a processing guarantee: {@code exactly_once_v2} / {@code eos} or {@code at_least_once} /
 * {@code alos}.
 */
final class GuaranteeConverter implements ITypeConverter<String> {
  static final String EOS = "exactly_once_v2";
  static final String ALOS = "at_least_once";

  @Override
  public String convert(String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "exactly_once_v2", "eos" -> EOS;
      case "at_least_once", "alos" -> ALOS;
      default ->
          throw new TypeConversionException(
              "'"
                  + value
                  + "' is not a processing guarantee; use exactly_once_v2 (eos) or at_least_once (alos)");
    };
  }
}
