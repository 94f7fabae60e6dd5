/**
 * The load generator: deterministic, Zipf-skewed shop events for the customer-profile pipeline
 * ({@link dev.backbone.examples.load.EventStream}), sent at a paced rate with a share of malformed
 * ones ({@link dev.backbone.examples.load.LoadGenerator}).
 */
package dev.backbone.examples.load;
