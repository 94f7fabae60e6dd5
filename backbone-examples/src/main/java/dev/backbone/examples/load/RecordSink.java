package dev.backbone.examples.load;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The two producer calls a load run makes. A seam so that pacing, stopping and counting can be
 * tested without a broker; in production it is always a Kafka {@code Producer}.
 */
interface RecordSink {

  void send(ProducerRecord<String, String> record, Callback callback);

  void flush();
}
