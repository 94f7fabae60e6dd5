package dev.backbone.bench.bootstrap;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The bench's pipeline: every input record is put into a logged, cached key-value store (the latest
 * value per key, as a table). Records of the probe partition also report their latency.
 */
final class PutTopology {
  static final int PROBE_PARTITION = 1;

  private PutTopology() {}

  static Topology build(
      KeyValueBytesStoreSupplier supplier, String store, String input, ProbeRecorder probe) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(
        Stores.keyValueStoreBuilder(supplier, Serdes.Bytes(), Serdes.ByteArray()));
    builder.stream(input, Consumed.with(Serdes.Bytes(), Serdes.ByteArray()))
        .process(() -> new Put(store, probe), store);
    return builder.build();
  }

  private static final class Put implements Processor<Bytes, byte[], Void, Void> {
    private final String storeName;
    private final ProbeRecorder probe;
    private ProcessorContext<Void, Void> context;
    private KeyValueStore<Bytes, byte[]> store;

    Put(String storeName, ProbeRecorder probe) {
      this.storeName = storeName;
      this.probe = probe;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      this.context = context;
      this.store = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<Bytes, byte[]> record) {
      if (context.recordMetadata().map(m -> m.partition() == PROBE_PARTITION).orElse(false)) {
        probe.record(record.timestamp(), System.currentTimeMillis());
      }
      store.put(record.key(), record.value());
    }
  }
}
