package dev.backbone.cli;

import dev.backbone.examples.profiles.StoreKind;
import picocli.CommandLine.Option;

/** The customer-profile pipeline's options shared by {@code demo} and {@code node}. */
final class PipelineOptions {
  @Option(
      names = "--partitions",
      defaultValue = "12",
      description =
          "Partitions of the keyed event topic, i.e. tasks of the state stage, when it is created"
              + " (default ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--guarantee",
      defaultValue = "exactly_once_v2",
      converter = GuaranteeConverter.class,
      description = "exactly_once_v2 (eos) or at_least_once (alos) (default ${DEFAULT-VALUE}).")
  String guarantee;

  @Option(
      names = "--store",
      defaultValue = "backbone",
      converter = StoreKindConverter.class,
      description =
          "Key-value store of the profile table: backbone (snapshot store) or stock (Kafka"
              + " Streams' RocksDB store) (default ${DEFAULT-VALUE}).")
  StoreKind store;
}
