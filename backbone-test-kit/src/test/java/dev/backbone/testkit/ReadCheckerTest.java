package dev.backbone.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.testkit.ReadChecker.Answer;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A counter table: the state after k events of a key is the number k. */
class ReadCheckerTest {
  private final ReadChecker<Integer> checker =
      new ReadChecker<>((key, value) -> value >= 1 && value <= 5 ? Set.of(value) : Set.of());

  @Test
  void valuesThatOnlyGrowPerClientPass() {
    checker.record("a", "k", fresh(1));
    checker.record("a", "k", fresh(3));
    checker.record("b", "k", fresh(2));
    checker.record("a", "k", new Answer.Retry<>("RESTORING"));
    checker.record("a", "k", fresh(3));

    checker.assertNoViolations();
    assertThat(checker.counts().freshValues()).isEqualTo(4);
    assertThat(checker.counts().retries()).isEqualTo(1);
  }

  @Test
  void aValueNoPrefixExplainsIsWrongEvenWhenStale() {
    checker.record("a", "k", fresh(9));
    checker.record("a", "j", new Answer.Value<>(0, true));

    assertThat(checker.violations()).hasSize(2).allMatch(v -> v.contains("wrong value"));
  }

  @Test
  void aFreshValueOlderThanOneTheClientSawFails() {
    checker.record("a", "k", fresh(4));
    checker.record("b", "k", fresh(2));
    checker.record("a", "k", new Answer.Value<>(1, true));
    checker.record("a", "k", fresh(2));

    assertThat(checker.violations())
        .singleElement()
        .asString()
        .contains("a read k", "went backwards");
  }

  @Test
  void aFreshNotFoundAfterAValueWasAnsweredFails() {
    checker.record("a", "k", fresh(1));
    checker.record("b", "k", new Answer.NotFound<>(true));
    checker.record("b", "k", new Answer.NotFound<>(false));

    assertThatThrownBy(checker::assertNoViolations)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("false \"not found\"");
  }

  @Test
  void aNotFoundOfAReadThatBeganBeforeTheValueWasAnsweredProvesNothing() {
    ReadChecker<Integer>.Read slow = checker.begin("b", "k");
    checker.record("a", "k", fresh(1));
    slow.end(new Answer.NotFound<>(false));

    checker.assertNoViolations();
  }

  @Test
  void aDeclaredKeyMustBeFound() {
    checker.record("a", "k", new Answer.NotFound<>(false));
    checker.mustExist("k");
    checker.record("a", "k", new Answer.NotFound<>(false));

    assertThat(checker.violations()).hasSize(1);
  }

  @Test
  void anUnexpectedAnswerFails() {
    checker.record("a", "k", new Answer.Unexpected<>("500 INTERNAL"));

    assertThat(checker.violations()).singleElement().asString().contains("500 INTERNAL");
  }

  @Test
  void httpAnswersAreClassifiedByStatusCodeAndStaleFlag() {
    assertThat(ReadChecker.httpAnswer(200, null, "{\"value\":{\"n\":1},\"node\":\"n\"}"))
        .isEqualTo(new Answer.Value<JsonNode>(json("{\"n\":1}"), false));
    assertThat(ReadChecker.httpAnswer(200, null, "{\"value\":2,\"stale\":true,\"lag\":3}"))
        .isEqualTo(new Answer.Value<JsonNode>(json("2"), true));
    assertThat(
            ReadChecker.httpAnswer(
                404, null, "{\"error\":{\"code\":\"KEY_NOT_FOUND\"},\"stale\":true,\"lag\":-1}"))
        .isEqualTo(new Answer.NotFound<JsonNode>(true));
    assertThat(ReadChecker.httpAnswer(503, "1", "{\"error\":{\"code\":\"RESTORING\"}}"))
        .isEqualTo(new Answer.Retry<JsonNode>("RESTORING"));
    assertThat(ReadChecker.httpAnswer(503, null, "{\"error\":{\"code\":\"RESTORING\"}}"))
        .isInstanceOf(Answer.Unexpected.class);
    assertThat(ReadChecker.httpAnswer(404, null, "{\"error\":{\"code\":\"STORE_NOT_FOUND\"}}"))
        .isInstanceOf(Answer.Unexpected.class);
    assertThat(ReadChecker.httpAnswer(200, null, "not json")).isInstanceOf(Answer.Unexpected.class);
  }

  private static Answer<Integer> fresh(int value) {
    return new Answer.Value<>(value, false);
  }

  private static JsonNode json(String text) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
