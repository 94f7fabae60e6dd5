/**
 * Implementation details of {@link dev.backbone.routing}: the binary encoding primitives and the
 * hand-off that keeps routing publication out of the rebalance ({@link
 * dev.backbone.routing.internals.CoalescingPublisher}).
 */
package dev.backbone.routing.internals;
