package dev.backbone.server.internals;

import dev.backbone.server.StreamsStage;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * What the node runtime needs of a {@link dev.backbone.server.KeyedStateStage}: its names, its
 * stage of any generation, and the setter of the generation its feeder writes to.
 *
 * @param name the stage name
 * @param applicationId generation 0's application id (the base of every generation's names)
 * @param feeder the stage that writes its input, paused during a rescale
 * @param forGeneration the stage of a generation
 * @param setGeneration sets the generation the feeder's sink names
 */
public record KeyedStageHandle(
    String name,
    String applicationId,
    String feeder,
    IntFunction<StreamsStage> forGeneration,
    IntConsumer setGeneration) {}
