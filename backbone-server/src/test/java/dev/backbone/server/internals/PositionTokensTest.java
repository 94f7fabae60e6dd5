package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.errors.BackboneException;
import java.util.Base64;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.kafka.streams.query.Position;
import org.junit.jupiter.api.Test;

class PositionTokensTest {

  @Property
  void decodeInvertsEncode(@ForAll("positions") Position position) {
    assertThat(PositionTokens.decode(PositionTokens.encode(position))).isEqualTo(position);
  }

  @Property
  void equalPositionsHaveEqualTokens(@ForAll("positions") Position position) {
    assertThat(PositionTokens.encode(position.copy())).isEqualTo(PositionTokens.encode(position));
  }

  @Property
  void tokensAreUrlSafe(@ForAll("positions") Position position) {
    assertThat(PositionTokens.encode(position)).matches("[A-Za-z0-9_-]+");
  }

  @Property
  void anyOtherStringIsRefusedAsBadPositionAndNothingElse(@ForAll String token) {
    try {
      PositionTokens.decode(token);
    } catch (BackboneException e) {
      assertThat(e.code()).isEqualTo("BAD_POSITION");
    }
  }

  @Property
  void truncatedTokensAreRefused(@ForAll("positions") Position position) {
    byte[] bytes = Base64.getUrlDecoder().decode(PositionTokens.encode(position));
    for (int length = 0; length < bytes.length; length++) {
      String cut =
          Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString(java.util.Arrays.copyOf(bytes, length));
      assertThatThrownBy(() -> PositionTokens.decode(cut))
          .isInstanceOf(BackboneException.class)
          .hasMessageContaining("Position token");
    }
  }

  @Test
  void theEmptyPositionHasAToken() {
    Position empty = Position.emptyPosition();
    assertThat(PositionTokens.decode(PositionTokens.encode(empty))).isEqualTo(empty);
  }

  @Provide
  Arbitrary<Position> positions() {
    Arbitrary<String> topics = Arbitraries.strings().ofMinLength(1).ofMaxLength(40);
    Arbitrary<Map<Integer, Long>> partitions =
        Arbitraries.maps(
                Arbitraries.integers().between(0, 10_000),
                Arbitraries.longs().between(0, Long.MAX_VALUE))
            .ofMaxSize(8);
    return Arbitraries.maps(topics, partitions).ofMaxSize(5).map(Position::fromMap);
  }
}
