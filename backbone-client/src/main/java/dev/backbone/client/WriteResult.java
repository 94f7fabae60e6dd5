package dev.backbone.client;

import java.util.Optional;

/**
 * The answer of a {@code put} or {@code delete}: where the write went.
 *
 * @param key the key
 * @param topic the topic the store's table reads, which the write went to
 * @param partition its partition
 * @param offset the write's offset
 * @param position the position token of the write: a read with it as {@code minPosition} sees the
 *     write or something newer
 * @param node the node that wrote it
 * @param read with {@code waitApplied}: the owner's read of the key once it applied the write
 */
public record WriteResult(
    String key,
    String topic,
    int partition,
    long offset,
    String position,
    String node,
    Optional<KeyResult> read) {}
