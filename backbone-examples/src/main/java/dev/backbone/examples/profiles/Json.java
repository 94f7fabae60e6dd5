package dev.backbone.examples.profiles;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;

/** The one JSON configuration shared by the parser and the serdes of this package. */
final class Json {

  /**
   * Strict on purpose: floats are read as {@code BigDecimal} so money is never rounded through a
   * double; duplicate fields and trailing content are errors, so a value has one meaning.
   */
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
          .build();

  private static final int MAX_SHOWN_CHARS = 80;

  private Json() {}

  /** Writes one JSON document. */
  interface Body {
    void writeTo(JsonGenerator generator) throws IOException;
  }

  static byte[] write(Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(160);
    try (JsonGenerator generator = MAPPER.createGenerator(out)) {
      body.writeTo(generator);
    } catch (IOException e) {
      throw new SerializationException("could not write JSON: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  /** True when a field is absent or JSON null: both mean "not given". */
  static boolean absent(JsonNode node) {
    return node == null || node.isNull() || node.isMissingNode();
  }

  /** A JSON node as it would be written, shortened for an error message. */
  static String show(JsonNode node) {
    return shorten(node.toString());
  }

  /** The start of a raw value, decoded leniently as UTF-8, for an error message. */
  static String show(byte[] raw) {
    String text =
        new String(raw, 0, Math.min(raw.length, MAX_SHOWN_CHARS * 4), StandardCharsets.UTF_8);
    StringBuilder printable = new StringBuilder(text.length());
    text.codePoints().forEach(c -> printable.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return "\"" + shorten(printable.toString()) + "\"";
  }

  private static String shorten(String text) {
    return text.length() <= MAX_SHOWN_CHARS ? text : text.substring(0, MAX_SHOWN_CHARS) + "...";
  }
}
