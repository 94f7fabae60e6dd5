package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.BackboneException;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class KeyCodecTest {

  @ParameterizedTest
  @CsvSource({
    "c-42, c-42",
    "a%20b, a b",
    "a+b, a+b",
    "a%2Fb, a/b",
    "%C3%A9t%C3%A9, été",
    "%F0%9F%98%80, \uD83D\uDE00",
    "a%25b, a%b",
    "x;y, x;y"
  })
  void decodesPercentEncodedUtf8WithoutTurningPlusIntoSpace(String raw, String key) {
    assertThat(KeyCodec.decode(raw)).isEqualTo(key);
  }

  @ParameterizedTest
  @ValueSource(strings = {"%zz", "%", "%4", "ab%", "a%g1", "%FF", "%C3", "%C3%28", "%ED%A0%80"})
  void refusesMalformedPercentEncodingAndInvalidUtf8AsBadKey(String raw) {
    assertThatThrownBy(() -> KeyCodec.decode(raw))
        .isInstanceOf(BackboneException.class)
        .satisfies(e -> assertThat(((BackboneException) e).code()).isEqualTo("BAD_KEY"));
  }

  @Test
  void refusesAnEmptyKey() {
    assertThatThrownBy(() -> KeyCodec.decode(""))
        .isInstanceOf(BackboneException.class)
        .hasMessageContaining("empty");
  }

  @Test
  void acceptsExactlyTheMaximumKeyLengthInBytesAndNoMore() {
    assertThat(KeyCodec.decode("a".repeat(KeyCodec.MAX_KEY_BYTES))).hasSize(1024);
    assertThatThrownBy(() -> KeyCodec.decode("a".repeat(KeyCodec.MAX_KEY_BYTES + 1)))
        .isInstanceOf(BackboneException.class)
        .hasMessageContaining("longer than 1024 bytes");
    // 513 two-byte characters: 1026 bytes although only 513 characters.
    assertThatThrownBy(() -> KeyCodec.decode("%C3%A9".repeat(513)))
        .isInstanceOf(BackboneException.class)
        .hasMessageContaining("longer than 1024 bytes");
  }

  @Test
  void errorMessagesStayShortForHugeKeys() {
    assertThatThrownBy(() -> KeyCodec.decode("b".repeat(5000)))
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(300));
  }

  @Test
  void encodesEverythingButUnreservedCharacters() {
    assertThat(KeyCodec.encode("c-42_x.y~z")).isEqualTo("c-42_x.y~z");
    assertThat(KeyCodec.encode("a b/c+d%")).isEqualTo("a%20b%2Fc%2Bd%25");
    assertThat(KeyCodec.encode("é")).isEqualTo("%C3%A9");
  }

  @Property
  void decodeInvertsEncodeForEveryKeyWithinTheLimit(
      @ForAll @StringLength(min = 1, max = 300) String key) {
    Assume.that(isWellFormedUtf16(key));
    Assume.that(key.getBytes(StandardCharsets.UTF_8).length <= KeyCodec.MAX_KEY_BYTES);
    assertThat(KeyCodec.decode(KeyCodec.encode(key))).isEqualTo(key);
  }

  private static boolean isWellFormedUtf16(String s) {
    return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(s);
  }
}
