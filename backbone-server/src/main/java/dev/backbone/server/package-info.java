/**
 * A Backbone node: one or more Kafka Streams applications ("stages") plus the HTTP server that
 * answers every query, admin, metrics and health call of the node.
 *
 * <p>The public surface is three types: {@link dev.backbone.server.StreamsStage} (one Kafka Streams
 * application), {@link dev.backbone.server.QueryableStore} (a store the HTTP API may read) and
 * {@link dev.backbone.server.BackboneNode} (builds, starts and closes the whole node). Everything
 * else lives in {@code dev.backbone.server.internals} and may change without notice.
 */
package dev.backbone.server;
