/**
 * How a Backbone node works inside: the HTTP API (routes, error mapping, key routing and
 * forwarding), stage lifecycle, metrics. Not an API; everything here may change.
 *
 * <p>No class here reaches into Kafka Streams' internal packages: key ownership comes from {@code
 * KafkaStreams#queryMetadataForKey}, reads from IQv2 ({@code KafkaStreams#query}), the cluster view
 * from {@code metadataForAllStreamsClients()} and {@code metadataForLocalThreads()}.
 */
package dev.backbone.server.internals;
