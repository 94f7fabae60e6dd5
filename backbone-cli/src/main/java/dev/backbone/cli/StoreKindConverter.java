package dev.backbone.cli;

import dev.backbone.examples.profiles.StoreKind;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads a store kind: {@code backbone} or {@code stock}. */
final class StoreKindConverter implements ITypeConverter<StoreKind> {
  @Override
  public StoreKind convert(String value) {
    try {
      return StoreKind.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(
          "'" + value + "' is not a store kind; use backbone or stock");
    }
  }
}
