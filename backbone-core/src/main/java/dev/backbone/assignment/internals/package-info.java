/**
 * The assignor's placement algorithm as a pure function over a small model of clients and tasks
 * ({@link dev.backbone.assignment.internals.RackAwarePlacer}), so it can be tested and benchmarked
 * at thousands of clients without Kafka. Public only for {@code backbone-bench}; not an API.
 */
package dev.backbone.assignment.internals;
