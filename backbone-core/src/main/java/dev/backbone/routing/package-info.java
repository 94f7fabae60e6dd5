/**
 * Routing: where every key of a Backbone application lives, published once per assignment instead
 * of being copied into every member's assignment.
 *
 * <ul>
 *   <li>{@link dev.backbone.routing.RoutingTable}: per generation, each task's active and standby
 *       process ids, the process-id dictionary (process id to node id and rack), and the
 *       key-to-task function ({@link dev.backbone.routing.KeyToTask}, identical to the producer's
 *       default partitioner).
 *   <li>{@link dev.backbone.routing.Member} / {@link dev.backbone.routing.Membership}: node id to
 *       rack, HTTP endpoint and state, published by every node when it starts and stops.
 *   <li>{@link dev.backbone.routing.RoutingPublishingTaskAssignor}: a KIP-924 task assignor
 *       decorator that delegates the assignment and publishes the table on the group leader.
 *   <li>{@link dev.backbone.routing.RoutingCache}: the latest table and membership a node (or a
 *       client) holds in memory, fed by {@link dev.backbone.routing.RoutingSubscriber}.
 * </ul>
 *
 * <p>Both topics ({@link dev.backbone.routing.RoutingTopics}) are compacted, single-partition and
 * keyed, so a reader that starts from the beginning ends with the latest table and every node's
 * latest membership record.
 */
package dev.backbone.routing;
