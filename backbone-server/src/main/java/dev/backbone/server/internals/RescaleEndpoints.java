package dev.backbone.server.internals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.rescale.RescalePlan;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The internal endpoints a rescale coordinator drives a node with, behind the cluster secret like
 * every {@code /internal/} call ({@link SnapshotEndpoints}):
 *
 * <ul>
 *   <li>{@code POST /internal/v1/stages/{stage}/pause} and {@code .../resume}: close a stage (its
 *       offsets committed) and start it again;
 *   <li>{@code POST /internal/v1/stages/{stage}/generations/{g}/start}, {@code .../serve}, {@code
 *       .../stop}, {@code .../restart}: run a keyed stage's generation beside the serving one, make
 *       it serve, stop one that does not serve, stop and start one that does not serve (its stores
 *       restore what their changelogs gained);
 *   <li>{@code POST /internal/v1/stages/{stage}/generations/{g}/prepare} (body: store, partitions,
 *       minOffsets by task, patienceMs) and {@code GET} of it: build and stage generation {@code
 *       g}'s first states here ({@link GenerationPrep}); {@code DELETE
 *       /internal/v1/stages/{stage}/generations/{g}/staged} drops them;
 *   <li>{@code GET /internal/v1/stages/{stage}/generations}: what runs here;
 *   <li>{@code PUT /internal/v1/stages/{stage}/rescale}: the plan and progress, for {@code GET
 *       /v1/cluster}.
 * </ul>
 *
 * Every call is idempotent, so a coordinator that retries or resumes repeats it safely.
 */
final class RescaleEndpoints {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final NodeRuntime node;

  RescaleEndpoints(NodeRuntime node) {
    this.node = node;
  }

  void register(Javalin javalin) {
    javalin.post(
        "/internal/v1/stages/{stage}/pause", ctx -> act(ctx, () -> node.pauseStage(stage(ctx))));
    javalin.post(
        "/internal/v1/stages/{stage}/resume", ctx -> act(ctx, () -> node.resumeStage(stage(ctx))));
    javalin.post(
        "/internal/v1/stages/{stage}/generations/{g}/start",
        ctx -> act(ctx, () -> node.startGeneration(stage(ctx), generation(ctx))));
    javalin.post(
        "/internal/v1/stages/{stage}/generations/{g}/serve",
        ctx -> act(ctx, () -> node.serveGeneration(stage(ctx), generation(ctx))));
    javalin.post(
        "/internal/v1/stages/{stage}/generations/{g}/restart",
        ctx -> act(ctx, () -> node.restartGeneration(stage(ctx), generation(ctx))));
    javalin.post(
        "/internal/v1/stages/{stage}/generations/{g}/stop",
        ctx -> act(ctx, () -> node.stopGeneration(stage(ctx), generation(ctx))));
    javalin.post("/internal/v1/stages/{stage}/generations/{g}/prepare", this::prepare);
    javalin.get("/internal/v1/stages/{stage}/generations/{g}/prepare", this::prepStatus);
    javalin.delete(
        "/internal/v1/stages/{stage}/generations/{g}/staged",
        ctx -> act(ctx, () -> node.dropStaged(stage(ctx), generation(ctx))));
    javalin.get("/internal/v1/stages/{stage}/generations", this::generations);
    javalin.put("/internal/v1/stages/{stage}/rescale", this::rescaleState);
  }

  private void act(Context ctx, Runnable action) {
    try {
      action.run();
    } catch (IllegalArgumentException e) {
      throw HttpErrors.fatal(HttpErrors.NOT_FOUND, e.getMessage());
    } catch (IllegalStateException e) {
      throw HttpErrors.fatal("CONFLICT", e.getMessage());
    }
    generations(ctx);
  }

  private void generations(Context ctx) {
    String stage = stage(ctx);
    try {
      node.applicationIdOf(stage);
    } catch (IllegalArgumentException e) {
      throw HttpErrors.fatal(HttpErrors.NOT_FOUND, e.getMessage());
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("node", node.nodeId());
    out.put("stage", stage);
    out.put("state", node.stageState(stage));
    out.put("applicationId", node.applicationIdOf(stage));
    out.put("stores", new java.util.TreeSet<>(node.storesOf(stage)));
    node.keyedStage(stage)
        .ifPresent(
            k -> {
              out.put("baseApplicationId", k.applicationId());
              out.put("feeder", k.feeder());
            });
    Map<String, String> generations = new LinkedHashMap<>();
    node.generations(stage).forEach((g, s) -> generations.put(Integer.toString(g), s));
    out.put("generations", generations);
    ctx.json(out);
  }

  private void prepare(Context ctx) throws IOException {
    String stage = stage(ctx);
    int generation = generation(ctx);
    JsonNode body = body(ctx);
    String store = text(body, "store");
    int partitions = body.path("partitions").asInt(0);
    if (partitions < 1) {
      throw HttpErrors.fatal(HttpErrors.BAD_REQUEST, "'partitions' must be 1 or more");
    }
    Map<Integer, Long> minOffsets = new HashMap<>();
    for (Map.Entry<String, JsonNode> e : body.path("minOffsets").properties()) {
      try {
        minOffsets.put(Integer.parseInt(e.getKey()), e.getValue().asLong());
      } catch (NumberFormatException bad) {
        throw HttpErrors.fatal(
            HttpErrors.BAD_REQUEST, "'" + e.getKey() + "' is not a partition number");
      }
    }
    Duration patience = Duration.ofMillis(body.path("patienceMs").asLong(120_000));
    try {
      ctx.status(202)
          .json(node.prepareGeneration(stage, generation, store, partitions, minOffsets, patience));
    } catch (IllegalArgumentException e) {
      throw HttpErrors.fatal(HttpErrors.NOT_FOUND, e.getMessage());
    } catch (IllegalStateException e) {
      throw HttpErrors.fatal("CONFLICT", e.getMessage());
    }
  }

  private void prepStatus(Context ctx) {
    Optional<GenerationPrep.Status> status = node.prepStatus(stage(ctx), generation(ctx));
    if (status.isEmpty()) {
      throw HttpErrors.fatal(
          HttpErrors.NOT_FOUND, "no preparation of that generation was started on this node");
    }
    ctx.json(status.get());
  }

  private void rescaleState(Context ctx) throws IOException {
    JsonNode body = body(ctx);
    RescalePlan plan;
    try {
      plan = JSON.treeToValue(body.path("plan"), RescalePlan.class);
    } catch (IOException | IllegalArgumentException e) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_REQUEST, "'plan' is not a rescale plan: " + e.getMessage());
    }
    node.rescaleState(new RescaleState(Optional.of(plan), body.path("progress").asText("")));
    ctx.status(204);
  }

  private static JsonNode body(Context ctx) {
    try {
      JsonNode body = JSON.readTree(ctx.bodyAsBytes());
      if (body == null || !body.isObject()) {
        throw HttpErrors.fatal(HttpErrors.BAD_REQUEST, "the body must be a JSON object");
      }
      return body;
    } catch (IOException e) {
      throw HttpErrors.fatal(HttpErrors.BAD_REQUEST, "the body is not JSON: " + e.getMessage());
    }
  }

  private static String text(JsonNode body, String field) {
    String value = body.path(field).asText("");
    if (value.isBlank()) {
      throw HttpErrors.fatal(HttpErrors.BAD_REQUEST, "'" + field + "' is required");
    }
    return value;
  }

  private static String stage(Context ctx) {
    return ctx.pathParam("stage");
  }

  private static int generation(Context ctx) {
    try {
      int g = Integer.parseInt(ctx.pathParam("g"));
      if (g >= 0) {
        return g;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw HttpErrors.fatal(
        HttpErrors.BAD_REQUEST, "'" + ctx.pathParam("g") + "' is not a generation (0 or more)");
  }
}
