/**
 * The one place in Backbone that uses Kafka Streams' internal classes: it encodes assignments with
 * {@code org.apache.kafka.streams.processor.internals.assignment.AssignmentInfo}, exactly the bytes
 * a group leader sends each member. Why internals: the assignment-size benchmark must count what
 * Kafka Streams really sends, with and without {@code application.server}, and no public API
 * exposes the encoding. Nothing outside the benchmark depends on this package.
 */
package dev.backbone.bench.assignment.streamsinternals;
