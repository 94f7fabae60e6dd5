/** Implementation details of {@link dev.backbone.routing}: the binary encoding primitives. */
package dev.backbone.routing.internals;
