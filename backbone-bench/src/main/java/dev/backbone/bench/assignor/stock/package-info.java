/**
 * Stock Kafka Streams' own task assignment, driven directly for the side-by-side comparison in
 * {@code backbone bench assignor} and in {@code docs/assignment.md}.
 *
 * <p>The one package of Backbone that reaches into Kafka Streams' internal classes ({@code
 * org.apache.kafka.streams.processor.internals.assignment}): the stock assignors ({@code
 * HighAvailabilityTaskAssignor} with {@code ClientState}s) have no public entry point, and running
 * a real consumer group of 1,200 members to measure them is not practical. They are driven the way
 * Kafka's own {@code TaskAssignorConvergenceTest} drives them: build one {@code ClientState} per
 * client (previous tasks, lags, client tags, capacity) and call {@code assign}. Only this package
 * may do so; it is benchmark code, never on a node's path.
 */
package dev.backbone.bench.assignor.stock;
