package dev.backbone.store;

import java.util.Set;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorSupplier;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.ProcessorWrapper;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.WrappedFixedKeyProcessorSupplier;
import org.apache.kafka.streams.processor.api.WrappedProcessorSupplier;
import org.apache.kafka.streams.state.StoreBuilder;

/**
 * The {@code processor.wrapper.class} (KIP-1112) of {@link BackboneStores#topologyConfig}: wraps
 * every processor of a topology so that its {@code init} and {@code close}, which Kafka Streams
 * calls exactly when an active task starts and stops running, keep the application's {@link
 * ServingTasks} up to date. Processing itself passes straight through; the wrapped processor's
 * stores ({@code ConnectedStoreProvider#stores}) are kept. Without a {@link ServingTasks} in the
 * application's configuration (the topology run outside a Backbone node) it does nothing.
 */
public final class ServingTaskWrapper implements ProcessorWrapper {
  /** Kafka Streams instantiates the wrapper by its class name. */
  public ServingTaskWrapper() {}

  @Override
  public <KIn, VIn, KOut, VOut>
      WrappedProcessorSupplier<KIn, VIn, KOut, VOut> wrapProcessorSupplier(
          String processorName, ProcessorSupplier<KIn, VIn, KOut, VOut> supplier) {
    return ProcessorWrapper.asWrapped(new Supplier<>(supplier));
  }

  @Override
  public <KIn, VIn, VOut>
      WrappedFixedKeyProcessorSupplier<KIn, VIn, VOut> wrapFixedKeyProcessorSupplier(
          String processorName, FixedKeyProcessorSupplier<KIn, VIn, VOut> supplier) {
    return ProcessorWrapper.asWrappedFixedKey(new FixedKeySupplier<>(supplier));
  }

  /** Marks the task running or not in the application's index, if it has one. */
  private static final class Lifecycle {
    private ServingTasks tasks;
    private TaskId taskId;

    void initialized(TaskId taskId, java.util.Map<String, Object> appConfigs) {
      this.taskId = taskId;
      this.tasks = ServingTasks.in(appConfigs).orElse(null);
      if (tasks != null) {
        tasks.processorsInitialized(taskId);
      }
    }

    void closing() {
      if (tasks != null) {
        tasks.processorsClosed(taskId);
      }
    }
  }

  private record Supplier<KIn, VIn, KOut, VOut>(ProcessorSupplier<KIn, VIn, KOut, VOut> inner)
      implements ProcessorSupplier<KIn, VIn, KOut, VOut> {
    @Override
    public Processor<KIn, VIn, KOut, VOut> get() {
      return new Tracked<>(inner.get());
    }

    @Override
    public Set<StoreBuilder<?>> stores() {
      return inner.stores();
    }
  }

  private static final class Tracked<KIn, VIn, KOut, VOut>
      implements Processor<KIn, VIn, KOut, VOut> {
    private final Processor<KIn, VIn, KOut, VOut> inner;
    private final Lifecycle lifecycle = new Lifecycle();

    Tracked(Processor<KIn, VIn, KOut, VOut> inner) {
      this.inner = inner;
    }

    @Override
    public void init(ProcessorContext<KOut, VOut> context) {
      inner.init(context);
      lifecycle.initialized(context.taskId(), context.appConfigs());
    }

    @Override
    public void process(Record<KIn, VIn> record) {
      inner.process(record);
    }

    @Override
    public void close() {
      try {
        lifecycle.closing();
      } finally {
        inner.close();
      }
    }
  }

  private record FixedKeySupplier<KIn, VIn, VOut>(FixedKeyProcessorSupplier<KIn, VIn, VOut> inner)
      implements FixedKeyProcessorSupplier<KIn, VIn, VOut> {
    @Override
    public FixedKeyProcessor<KIn, VIn, VOut> get() {
      return new FixedKeyTracked<>(inner.get());
    }

    @Override
    public Set<StoreBuilder<?>> stores() {
      return inner.stores();
    }
  }

  private static final class FixedKeyTracked<KIn, VIn, VOut>
      implements FixedKeyProcessor<KIn, VIn, VOut> {
    private final FixedKeyProcessor<KIn, VIn, VOut> inner;
    private final Lifecycle lifecycle = new Lifecycle();

    FixedKeyTracked(FixedKeyProcessor<KIn, VIn, VOut> inner) {
      this.inner = inner;
    }

    @Override
    public void init(FixedKeyProcessorContext<KIn, VOut> context) {
      inner.init(context);
      lifecycle.initialized(context.taskId(), context.appConfigs());
    }

    @Override
    public void process(FixedKeyRecord<KIn, VIn> record) {
      inner.process(record);
    }

    @Override
    public void close() {
      try {
        lifecycle.closing();
      } finally {
        inner.close();
      }
    }
  }
}
