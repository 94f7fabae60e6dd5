/**
 * Pieces of the customer-profile pipeline that Kafka Streams must be able to instantiate by class
 * name, and are therefore public; not an API.
 */
package dev.backbone.examples.profiles.internals;
