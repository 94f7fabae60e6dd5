package dev.backbone.examples.profiles;

import io.micrometer.core.instrument.Counter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The ingest stage's only processor: parses each raw record and sends it either, re-keyed by its
 * customer id, to the keyed-events sink, or untouched (original key, value and headers, plus the
 * {@code backbone.dlq.*} headers) to the DLQ sink. Stateless; one instance per task.
 */
final class EventRouter implements Processor<byte[], byte[], Object, Object> {

  private final String keyedEventsSink;
  private final String dlqSink;
  private final Map<InvalidReason, Counter> dlqCounters;
  private ProcessorContext<Object, Object> context;

  EventRouter(String keyedEventsSink, String dlqSink, Map<InvalidReason, Counter> dlqCounters) {
    this.keyedEventsSink = keyedEventsSink;
    this.dlqSink = dlqSink;
    this.dlqCounters = dlqCounters;
  }

  @Override
  public void init(ProcessorContext<Object, Object> context) {
    this.context = context;
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    ParsedEvent parsed = EventParser.parse(record.value(), record.timestamp());
    if (parsed instanceof ParsedEvent.Valid valid) {
      // The payload is the truth: the record key may be null or name another customer.
      CustomerEvent event = valid.event();
      context.forward(record.withKey(event.customerId()).withValue(event), keyedEventsSink);
      return;
    }
    ParsedEvent.Invalid invalid = (ParsedEvent.Invalid) parsed;
    Headers headers = new RecordHeaders(record.headers().toArray());
    headers.remove(CustomerProfilePipeline.DLQ_REASON_HEADER);
    headers.remove(CustomerProfilePipeline.DLQ_CODE_HEADER);
    headers.remove(CustomerProfilePipeline.DLQ_SOURCE_HEADER);
    headers.add(CustomerProfilePipeline.DLQ_REASON_HEADER, utf8(invalid.message()));
    headers.add(CustomerProfilePipeline.DLQ_CODE_HEADER, utf8(invalid.reason().name()));
    headers.add(CustomerProfilePipeline.DLQ_SOURCE_HEADER, utf8(source()));
    context.forward(record.withHeaders(headers), dlqSink);
    dlqCounters.get(invalid.reason()).increment();
  }

  private String source() {
    return context
        .recordMetadata()
        .map(m -> m.topic() + "/" + m.partition() + "@" + m.offset())
        .orElse("unknown");
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
