/**
 * Rack-aware task assignment as a hard rule: {@link dev.backbone.assignment.RackAwareTaskAssignor},
 * a KIP-924 {@code TaskAssignor} enabled with {@code
 * task.assignor.class=dev.backbone.assignment.RackAwareTaskAssignor}, and the figures it reports
 * ({@link dev.backbone.assignment.AssignmentMetrics}). The algorithm is in {@code internals}.
 */
package dev.backbone.assignment;
