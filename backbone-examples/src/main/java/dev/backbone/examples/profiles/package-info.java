/**
 * The customer-profile reference application: the event model and its parser ({@link
 * dev.backbone.examples.profiles.EventParser}), the profile and its fold ({@link
 * dev.backbone.examples.profiles.CustomerProfile}), their JSON serdes, and the two-stage Kafka
 * Streams pipeline ({@link dev.backbone.examples.profiles.CustomerProfilePipeline}).
 */
package dev.backbone.examples.profiles;
