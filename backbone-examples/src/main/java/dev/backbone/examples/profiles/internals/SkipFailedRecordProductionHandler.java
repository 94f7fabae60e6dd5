package dev.backbone.examples.profiles.internals;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ProductionExceptionHandler} that never stops a stream thread because one record could
 * not be written: retriable errors (timeouts, leader changes) are retried, as Kafka Streams' own
 * default does; any other error (record too large, a serializer failure) skips that record with a
 * warning naming the topic and the source record.
 *
 * <p>Errors that concern the whole client rather than one record (authorization, a fenced producer)
 * never reach this handler: Kafka Streams treats them as fatal before asking it. Public only
 * because Kafka Streams instantiates it by class name.
 */
public final class SkipFailedRecordProductionHandler implements ProductionExceptionHandler {

  private static final Logger LOG =
      LoggerFactory.getLogger(SkipFailedRecordProductionHandler.class);

  /** Called reflectively by Kafka Streams. */
  public SkipFailedRecordProductionHandler() {}

  @Override
  public void configure(Map<String, ?> configs) {}

  @Override
  public Response handleError(
      ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
    if (exception instanceof RetriableException) {
      return Response.retry();
    }
    LOG.warn(
        "Skipped a record for topic {} that could not be written (source {}/{}@{}, task {}): {}",
        record.topic(),
        context.topic(),
        context.partition(),
        context.offset(),
        context.taskId(),
        exception.toString());
    return Response.resume();
  }

  // The interface declares the record parameter as a raw type; an override must match it.
  @SuppressWarnings("rawtypes")
  @Override
  public Response handleSerializationError(
      ErrorHandlerContext context,
      ProducerRecord record,
      Exception exception,
      SerializationExceptionOrigin origin) {
    LOG.warn(
        "Skipped a record for topic {} whose {} could not be serialized (source {}/{}@{}): {}",
        record.topic(),
        origin,
        context.topic(),
        context.partition(),
        context.offset(),
        exception.toString());
    return Response.resume();
  }
}
