/**
 * The Java client of the Backbone query API: {@link dev.backbone.client.BackboneClient} reads keys,
 * batches and scans from any Backbone cluster, going straight to each key's owner by a cached copy
 * of the cluster's routing table, and retries what the cluster says is retriable.
 */
package dev.backbone.client;
