/** The client's routing cache and HTTP transport; not an API. */
package dev.backbone.client.internals;
