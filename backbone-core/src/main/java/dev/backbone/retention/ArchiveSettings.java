package dev.backbone.retention;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Where a {@link SnapshotArchive} is and how it transfers. Start from {@link #of(String)} and
 * change what differs with {@link #withS3}, {@link #withTransfers} and {@link #withRetainGrace};
 * {@link SnapshotArchives#open} checks the whole and names every problem at once.
 *
 * @param uri {@code file:///absolute/path} for a local or shared directory, or {@code
 *     s3://bucket/optional/prefix} for an S3-compatible object store
 * @param endpoint S3 only: the endpoint of an S3-compatible store, e.g. {@code
 *     http://127.0.0.1:9000}; null for AWS S3 itself
 * @param region S3 only: the signing region; null for the SDK's default chain ({@code AWS_REGION},
 *     profile), or {@code us-east-1} when an endpoint is given
 * @param accessKey S3 only: a static access key, with {@code secretKey}; null (both) for the SDK's
 *     default credentials chain (environment, profile, instance role)
 * @param secretKey S3 only: the static secret key; never printed
 * @param pathStyle S3 only: address the bucket as {@code endpoint/bucket/key} rather than {@code
 *     bucket.endpoint/key} (most S3-compatible stores want this)
 * @param parallelism files transferred at once by one upload or download, at least 1
 * @param multipartThresholdBytes S3 only: files larger than this are sent in parts
 * @param multipartPartBytes S3 only: the part size, at least 5 MiB (S3's minimum)
 * @param throttleBytesPerSecond bytes per second over all files of one upload or download; 0 for no
 *     limit
 * @param retainGrace how young an unnamed file must be for {@link SnapshotArchive#retainNewest} to
 *     keep it: longer than the longest upload
 */
public record ArchiveSettings(
    String uri,
    String endpoint,
    String region,
    String accessKey,
    String secretKey,
    boolean pathStyle,
    int parallelism,
    long multipartThresholdBytes,
    long multipartPartBytes,
    long throttleBytesPerSecond,
    Duration retainGrace) {

  /** S3's smallest part of a multipart upload (the last part excepted). */
  public static final long MIN_PART_BYTES = 5L << 20;

  /** Default {@link #parallelism()}. */
  public static final int DEFAULT_PARALLELISM = 4;

  /** Default {@link #multipartThresholdBytes()} and {@link #multipartPartBytes()}: 64 MiB. */
  public static final long DEFAULT_PART_BYTES = 64L << 20;

  /** Default {@link #retainGrace()}. */
  public static final Duration DEFAULT_RETAIN_GRACE = Duration.ofHours(6);

  /** Checks that the URI and the grace period are given; {@link #problems()} checks the rest. */
  public ArchiveSettings {
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(retainGrace, "retainGrace");
  }

  /** The defaults for an archive at {@code uri}: no throttle, default credentials. */
  public static ArchiveSettings of(String uri) {
    return new ArchiveSettings(
        uri,
        null,
        null,
        null,
        null,
        false,
        DEFAULT_PARALLELISM,
        DEFAULT_PART_BYTES,
        DEFAULT_PART_BYTES,
        0,
        DEFAULT_RETAIN_GRACE);
  }

  /** These settings for an S3-compatible store at {@code endpoint} (see the fields). */
  public ArchiveSettings withS3(
      String endpoint, String region, String accessKey, String secretKey, boolean pathStyle) {
    return new ArchiveSettings(
        uri,
        endpoint,
        region,
        accessKey,
        secretKey,
        pathStyle,
        parallelism,
        multipartThresholdBytes,
        multipartPartBytes,
        throttleBytesPerSecond,
        retainGrace);
  }

  /**
   * These settings with other transfer limits.
   *
   * @param parallelism see {@link #parallelism()}
   * @param multipartThresholdBytes see {@link #multipartThresholdBytes()}
   * @param multipartPartBytes see {@link #multipartPartBytes()}
   * @param throttleBytesPerSecond see {@link #throttleBytesPerSecond()}
   */
  public ArchiveSettings withTransfers(
      int parallelism,
      long multipartThresholdBytes,
      long multipartPartBytes,
      long throttleBytesPerSecond) {
    return new ArchiveSettings(
        uri,
        endpoint,
        region,
        accessKey,
        secretKey,
        pathStyle,
        parallelism,
        multipartThresholdBytes,
        multipartPartBytes,
        throttleBytesPerSecond,
        retainGrace);
  }

  /** These settings with another {@link #retainGrace()}. */
  public ArchiveSettings withRetainGrace(Duration grace) {
    return new ArchiveSettings(
        uri,
        endpoint,
        region,
        accessKey,
        secretKey,
        pathStyle,
        parallelism,
        multipartThresholdBytes,
        multipartPartBytes,
        throttleBytesPerSecond,
        grace);
  }

  /** Whether {@link #uri()} names an S3 bucket. */
  public boolean isS3() {
    return uri.startsWith("s3://");
  }

  /** Every problem of these settings, each a sentence naming the setting; empty if none. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    URI parsed = null;
    try {
      parsed = new URI(uri);
    } catch (URISyntaxException e) {
      problems.add("uri '" + uri + "' is not a URI: " + e.getMessage());
    }
    if (parsed != null) {
      if ("file".equals(parsed.getScheme())) {
        if (parsed.getPath() == null || !parsed.getPath().startsWith("/")) {
          problems.add(
              "uri '" + uri + "' must name an absolute directory, e.g. file:///var/backbone");
        }
        if (endpoint != null || region != null || accessKey != null || secretKey != null) {
          problems.add("endpoint, region and keys are for s3:// archives only, not " + uri);
        }
      } else if ("s3".equals(parsed.getScheme())) {
        if (parsed.getHost() == null || parsed.getHost().isBlank()) {
          problems.add("uri '" + uri + "' must name a bucket: s3://bucket/optional/prefix");
        }
        if (endpoint != null) {
          try {
            URI e = new URI(endpoint);
            if (!"http".equals(e.getScheme()) && !"https".equals(e.getScheme())
                || e.getHost() == null) {
              problems.add("endpoint '" + endpoint + "' must be http://host:port or https://...");
            }
          } catch (URISyntaxException e) {
            problems.add("endpoint '" + endpoint + "' is not a URI: " + e.getMessage());
          }
        }
        if ((accessKey == null) != (secretKey == null)) {
          problems.add(
              "accessKey and secretKey go together: give both, or neither for the SDK's"
                  + " default credentials chain");
        }
        if (multipartPartBytes < MIN_PART_BYTES) {
          problems.add(
              "multipartPartBytes "
                  + multipartPartBytes
                  + " is below S3's minimum part of "
                  + MIN_PART_BYTES);
        }
        if (multipartThresholdBytes < multipartPartBytes) {
          problems.add(
              "multipartThresholdBytes "
                  + multipartThresholdBytes
                  + " must be at least multipartPartBytes "
                  + multipartPartBytes);
        }
      } else {
        problems.add(
            "uri '" + uri + "' must start with file:// (a directory) or s3:// (an object store)");
      }
    }
    if (parallelism < 1) {
      problems.add("parallelism must be at least 1, not " + parallelism);
    }
    if (throttleBytesPerSecond < 0) {
      problems.add("throttleBytesPerSecond must not be negative: " + throttleBytesPerSecond);
    }
    if (retainGrace.isNegative()) {
      problems.add("retainGrace must not be negative: " + retainGrace);
    }
    return problems;
  }

  /** The settings with the secret key masked. */
  @Override
  public String toString() {
    return "ArchiveSettings[uri="
        + uri
        + ", endpoint="
        + endpoint
        + ", region="
        + region
        + ", accessKey="
        + accessKey
        + ", secretKey="
        + (secretKey == null ? null : "****")
        + ", pathStyle="
        + pathStyle
        + ", parallelism="
        + parallelism
        + ", multipartThresholdBytes="
        + multipartThresholdBytes
        + ", multipartPartBytes="
        + multipartPartBytes
        + ", throttleBytesPerSecond="
        + throttleBytesPerSecond
        + ", retainGrace="
        + retainGrace
        + "]";
  }
}
