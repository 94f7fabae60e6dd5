package dev.backbone.retention.internals;

import dev.backbone.retention.ArchiveSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * An archive in an S3 bucket (AWS, or any S3-compatible store at a configured endpoint), through
 * the AWS SDK v2 over the JDK's {@code HttpURLConnection} (no Netty, no Apache client).
 *
 * <p>A PUT and a multipart completion are atomic in S3: a key holds a whole object or none, which
 * is what {@link ArchiveBackend#put} promises. A file above the multipart threshold goes in parts,
 * in order (its checksum is checked as the parts are read, {@link SnapshotFileContent}); a failed
 * multipart upload is aborted so its parts do not linger (a bucket lifecycle rule for incomplete
 * uploads is still worth having, for a process killed mid-upload). Requests are retried with
 * backoff by the SDK's standard retry strategy; the archive above runs files in parallel.
 *
 * <p>Checksums: the SDK's own request and response checksums are asked for only where S3 requires
 * them, since several S3-compatible stores reject the trailing checksums the SDK otherwise sends;
 * every byte is checked against the manifest's CRC32C above anyway.
 */
final class S3SnapshotArchive implements ArchiveBackend {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(60);
  private static final String BINARY = "application/octet-stream";

  private final S3Client s3;
  private final String bucket;
  private final String prefix;
  private final String description;
  private final long multipartThreshold;
  private final long partSize;

  S3SnapshotArchive(ArchiveSettings settings) {
    URI uri = URI.create(settings.uri());
    this.bucket = uri.getHost();
    String path = uri.getPath() == null ? "" : uri.getPath().replaceAll("^/+|/+$", "");
    this.prefix = path.isEmpty() ? "" : path + "/";
    this.description =
        "s3://"
            + bucket
            + "/"
            + path
            + (settings.endpoint() == null ? "" : " (endpoint " + settings.endpoint() + ")");
    this.multipartThreshold = settings.multipartThresholdBytes();
    this.partSize = settings.multipartPartBytes();
    S3ClientBuilder builder =
        S3Client.builder()
            .httpClientBuilder(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(CONNECT_TIMEOUT)
                    .socketTimeout(SOCKET_TIMEOUT))
            .forcePathStyle(settings.pathStyle())
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD))
            .credentialsProvider(credentials(settings));
    if (settings.endpoint() != null) {
      builder.endpointOverride(URI.create(settings.endpoint()));
    }
    if (settings.region() != null) {
      builder.region(Region.of(settings.region()));
    } else if (settings.endpoint() != null) {
      builder.region(Region.US_EAST_1);
    }
    this.s3 = builder.build();
  }

  private static AwsCredentialsProvider credentials(ArchiveSettings settings) {
    if (settings.accessKey() != null) {
      return StaticCredentialsProvider.create(
          AwsBasicCredentials.create(settings.accessKey(), settings.secretKey()));
    }
    return DefaultCredentialsProvider.builder().build();
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public long sizeOf(String key) throws IOException {
    try {
      return s3.headObject(b -> b.bucket(bucket).key(prefix + key)).contentLength();
    } catch (NoSuchKeyException e) {
      return -1;
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return -1;
      }
      throw failure("HEAD", key, e);
    } catch (SdkException e) {
      throw failure("HEAD", key, e);
    }
  }

  @Override
  public void put(String key, Content content) throws IOException {
    try {
      if (content.size() > multipartThreshold) {
        putInParts(prefix + key, content);
      } else {
        s3.putObject(
            b -> b.bucket(bucket).key(prefix + key).contentLength(content.size()),
            RequestBody.fromContentProvider(
                provider(content, 0, content.size()), content.size(), BINARY));
      }
    } catch (SdkException e) {
      throw failure("PUT", key, e);
    }
  }

  private void putInParts(String fullKey, Content content) {
    String uploadId =
        s3.createMultipartUpload(b -> b.bucket(bucket).key(fullKey).contentType(BINARY)).uploadId();
    try {
      List<CompletedPart> parts = new ArrayList<>();
      int number = 1;
      for (long offset = 0; offset < content.size(); offset += partSize, number++) {
        long length = Math.min(partSize, content.size() - offset);
        int partNumber = number;
        String etag =
            s3.uploadPart(
                    b ->
                        b.bucket(bucket)
                            .key(fullKey)
                            .uploadId(uploadId)
                            .partNumber(partNumber)
                            .contentLength(length),
                    RequestBody.fromContentProvider(
                        provider(content, offset, length), length, BINARY))
                .eTag();
        parts.add(CompletedPart.builder().partNumber(partNumber).eTag(etag).build());
      }
      s3.completeMultipartUpload(
          b ->
              b.bucket(bucket)
                  .key(fullKey)
                  .uploadId(uploadId)
                  .multipartUpload(m -> m.parts(parts)));
    } catch (RuntimeException e) {
      try {
        s3.abortMultipartUpload(b -> b.bucket(bucket).key(fullKey).uploadId(uploadId));
      } catch (RuntimeException abort) {
        e.addSuppressed(abort);
      }
      throw e;
    }
  }

  private static ContentStreamProvider provider(Content content, long offset, long length) {
    return () -> {
      try {
        return content.open(offset, length);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
  }

  @Override
  public InputStream open(String key) throws IOException {
    try {
      return s3.getObject(b -> b.bucket(bucket).key(prefix + key));
    } catch (NoSuchKeyException e) {
      throw (IOException) new NoSuchFileException(describe() + "/" + key).initCause(e);
    } catch (SdkException e) {
      throw failure("GET", key, e);
    }
  }

  @Override
  public List<StoredObject> list(String keyPrefix) throws IOException {
    try {
      List<StoredObject> objects = new ArrayList<>();
      for (S3Object object :
          s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix + keyPrefix)).contents()) {
        if (object.key().endsWith("/")) {
          continue; // a folder marker some stores list (S3Proxy's filesystem provider)
        }
        objects.add(
            new StoredObject(
                object.key().substring(prefix.length()), object.size(), object.lastModified()));
      }
      return objects;
    } catch (SdkException e) {
      throw failure("LIST", keyPrefix, e);
    }
  }

  @Override
  public void delete(String key) throws IOException {
    try {
      s3.deleteObject(b -> b.bucket(bucket).key(prefix + key));
    } catch (SdkException e) {
      throw failure("DELETE", key, e);
    }
  }

  @Override
  public void close() {
    s3.close();
  }

  private IOException failure(String request, String key, SdkException e) {
    return new IOException(request + " " + describe() + "/" + key + ": " + e.getMessage(), e);
  }
}
