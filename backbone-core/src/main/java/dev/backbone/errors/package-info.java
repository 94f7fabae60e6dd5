/**
 * The exception hierarchy of Backbone: {@link dev.backbone.errors.BackboneException} with retriable
 * and fatal branches, each carrying a stable code that the HTTP layer maps to a status.
 */
package dev.backbone.errors;
