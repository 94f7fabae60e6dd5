/**
 * Topics that accept writes: creating a pipeline's topics and waiting until every partition's
 * leader takes a Produce, before any producer Backbone runs starts ({@link
 * dev.backbone.topics.WritableTopics}).
 */
package dev.backbone.topics;
