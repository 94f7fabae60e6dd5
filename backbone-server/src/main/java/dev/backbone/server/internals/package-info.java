/**
 * How a Backbone node works inside: the HTTP API (routes, error mapping, key routing and
 * forwarding), stage lifecycle, restore tracking, metrics. Not an API; everything here may change.
 *
 * <p>No class here reaches into Kafka Streams' internal packages: key ownership comes from the
 * published routing table ({@code dev.backbone.routing}, keys mapped to tasks as the producer's
 * default partitioner does), whether Kafka Streams runs a task here from {@code
 * metadataForLocalThreads()}, reads from IQv2 ({@code KafkaStreams#query}), whether a local replica
 * is caught up from a {@code StateRestoreListener} and a {@code MetricsReporter} ({@link
 * dev.backbone.server.internals.RestoreTracker}), store lags from {@code
 * allLocalStorePartitionLags()}.
 */
package dev.backbone.server.internals;
