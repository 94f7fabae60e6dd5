/**
 * Backbone's configuration: one {@link dev.backbone.config.BackboneConfig} of {@code backbone.*}
 * settings, passed in the same properties as Kafka Streams' own.
 */
package dev.backbone.config;
