package dev.backbone.server.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.errors.FatalBackboneException;
import dev.backbone.errors.RetriableBackboneException;
import io.javalin.http.MethodNotAllowedResponse;
import io.javalin.http.NotFoundResponse;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HttpErrorsTest {
  private final HttpErrors errors = new HttpErrors(7);
  private final ObjectMapper mapper = new ObjectMapper();

  @ParameterizedTest
  @CsvSource({
    "BAD_KEY, 400",
    "BAD_REQUEST, 400",
    "BAD_POSITION, 400",
    "UNAUTHORIZED, 401",
    "FORBIDDEN, 403",
    "STORE_NOT_FOUND, 404",
    "KEY_NOT_FOUND, 404",
    "NOT_FOUND, 404",
    "METHOD_NOT_ALLOWED, 405",
    "CONFLICT, 409",
    "URI_TOO_LONG, 414",
    "SOMETHING_NEW, 500"
  })
  void mapsEachFatalCodeToItsStatusWithoutRetryAfter(String code, int status) throws Exception {
    ApiError error = errors.toApiError(new FatalBackboneException(code, "what happened: " + code));

    assertThat(error.status()).isEqualTo(status);
    assertThat(error.retryAfterSeconds()).isEmpty();
    JsonNode body = mapper.readTree(mapper.writeValueAsString(error.body()));
    assertThat(body.path("error").path("code").asText()).isEqualTo(code);
    assertThat(body.path("error").path("message").asText()).isEqualTo("what happened: " + code);
    assertThat(body.size()).isEqualTo(1);
    assertThat(body.path("error").size()).isEqualTo(2);
  }

  @ParameterizedTest
  @CsvSource({"REBALANCING", "OWNER_UNREACHABLE", "ANY_RETRIABLE"})
  void mapsEveryRetriableFailureTo503WithRetryAfter(String code) {
    ApiError error = errors.toApiError(new RetriableBackboneException(code, "later"));

    assertThat(error.status()).isEqualTo(503);
    assertThat(error.code()).isEqualTo(code);
    assertThat(error.retryAfterSeconds()).isEqualTo(OptionalInt.of(7));
  }

  @Test
  void hidesTheDetailsOfUnexpectedFailures() {
    ApiError error =
        errors.toApiError(new IllegalStateException("secret detail at com.example.Foo:42"));

    assertThat(error.status()).isEqualTo(500);
    assertThat(error.code()).isEqualTo("INTERNAL");
    assertThat(error.message()).doesNotContain("secret").contains("Internal error");
    assertThat(error.retryAfterSeconds()).isEmpty();
  }

  @Test
  void givesEveryUnexpectedFailureItsOwnErrorId() {
    assertThat(errors.toApiError(new RuntimeException()).message())
        .isNotEqualTo(errors.toApiError(new RuntimeException()).message());
  }

  @Test
  void mapsTheFrameworksNotFoundAndMethodNotAllowed() {
    assertThat(errors.toApiError(new NotFoundResponse("Endpoint GET /x not found")))
        .extracting(ApiError::status, ApiError::code)
        .containsExactly(404, "NOT_FOUND");
    assertThat(errors.toApiError(new MethodNotAllowedResponse("Method Not Allowed")))
        .extracting(ApiError::status, ApiError::code)
        .containsExactly(405, "METHOD_NOT_ALLOWED");
  }

  @Test
  void mapsStatusesTheServerProducesBeforeRouting() {
    assertThat(errors.fromFrameworkStatus(400, "Bad Request"))
        .extracting(ApiError::status, ApiError::code)
        .containsExactly(400, "BAD_REQUEST");
    assertThat(errors.fromFrameworkStatus(414, null))
        .extracting(ApiError::status, ApiError::code)
        .containsExactly(414, "URI_TOO_LONG");
    assertThat(errors.fromFrameworkStatus(431, "Request Header Fields Too Large"))
        .extracting(ApiError::status, ApiError::code)
        .containsExactly(431, "HTTP_431");
    assertThat(errors.fromFrameworkStatus(500, "boom").code()).isEqualTo("INTERNAL");
    assertThat(errors.fromFrameworkStatus(503, "busy").retryAfterSeconds())
        .isEqualTo(OptionalInt.of(7));
  }

  @Test
  void refusesARetryAfterBelowOneSecond() {
    assertThatThrownBy(() -> new HttpErrors(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
