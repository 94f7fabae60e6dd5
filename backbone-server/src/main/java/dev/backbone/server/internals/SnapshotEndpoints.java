package dev.backbone.server.internals;

import com.fasterxml.jackson.annotation.JsonRawValue;
import dev.backbone.bootstrap.SnapshotLender;
import dev.backbone.errors.FatalBackboneException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.streams.processor.TaskId;

/**
 * The internal snapshot-transfer endpoints a node serves to its peers for cold bootstrap:
 *
 * <ul>
 *   <li>{@code GET /internal/v1/snapshots/{taskId}/{store}?application=<id>}: lends a snapshot of
 *       the node's open store (cut now or a moment ago) and answers its id, expiry and manifest;
 *   <li>{@code GET /internal/v1/snapshots/{taskId}/{store}/{snapshotId}/files/{name}}: one file the
 *       manifest lists, whole or from a byte range ({@code Range: bytes=first-[last]}, so a broken
 *       transfer resumes where it stopped);
 *   <li>{@code DELETE /internal/v1/snapshots/{taskId}/{store}/{snapshotId}}: the borrower is done.
 * </ul>
 *
 * <p>Every call must present the cluster secret in {@value #SECRET_HEADER}: none is 401, a wrong
 * one 403, and a node without {@code backbone.cluster.secret} serves no internal call at all (403).
 * The secret is compared in constant time. Only names the lent manifest lists are served ({@link
 * SnapshotLender#file}), and a lent snapshot is served only under the task and store it was cut of.
 *
 * <p>Ranges: a single {@code bytes=first-} or {@code bytes=first-last} range is answered 206 with
 * {@code Content-Range}; one that starts past the end is 416. Any other form (suffix or several
 * ranges) is answered with the whole file, 200, which RFC 9110 section 14.2 allows; the fetcher
 * sends only the first kind.
 */
final class SnapshotEndpoints {
  /** Header that carries the cluster secret on internal calls. */
  static final String SECRET_HEADER = "X-Backbone-Cluster-Secret";

  private static final Pattern SINGLE_RANGE = Pattern.compile("bytes=(\\d{1,18})-(\\d{0,18})");
  private static final int COPY_BUFFER_BYTES = 64 * 1024;

  private final SnapshotLender lender;
  private final Optional<byte[]> secret;

  SnapshotEndpoints(SnapshotLender lender, Optional<String> secret) {
    this.lender = lender;
    this.secret = secret.map(s -> s.getBytes(StandardCharsets.UTF_8));
  }

  void register(Javalin javalin) {
    javalin.before("/internal/*", this::authenticate);
    javalin.get("/internal/v1/snapshots/{taskId}/{store}", this::lend);
    javalin.get("/internal/v1/snapshots/{taskId}/{store}/{snapshotId}/files/{name}", this::file);
    javalin.delete("/internal/v1/snapshots/{taskId}/{store}/{snapshotId}", this::release);
  }

  private void authenticate(Context ctx) {
    String presented = ctx.header(SECRET_HEADER);
    if (secret.isEmpty()) {
      throw HttpErrors.fatal(
          "FORBIDDEN",
          "this node has no backbone.cluster.secret, so it serves no internal call; give every"
              + " node of the cluster the same secret");
    }
    if (presented == null || presented.isEmpty()) {
      throw HttpErrors.fatal(
          "UNAUTHORIZED",
          "internal calls need the cluster secret in the " + SECRET_HEADER + " header");
    }
    if (!MessageDigest.isEqual(secret.get(), presented.getBytes(StandardCharsets.UTF_8))) {
      throw HttpErrors.fatal(
          "FORBIDDEN", "the cluster secret in " + SECRET_HEADER + " does not match this node's");
    }
  }

  private void lend(Context ctx) {
    TaskId taskId = taskId(ctx);
    String store = ctx.pathParam("store");
    String application = ctx.queryParam("application");
    if (application == null || application.isBlank()) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_REQUEST,
          "the query parameter 'application' (the store's Kafka Streams application.id) is"
              + " required");
    }
    SnapshotLender.Loan loan = lender.lend(application, taskId, store);
    ctx.json(new LoanAnswer(loan.id(), loan.expiresAt().toString(), loan.manifestJson()));
  }

  /**
   * The answer to a lend.
   *
   * @param snapshotId the id to fetch files under and to release
   * @param expiresAt when the node deletes the snapshot unless it is lent again (ISO-8601)
   * @param manifest the snapshot's manifest, exactly as its file holds it
   */
  record LoanAnswer(String snapshotId, String expiresAt, @JsonRawValue String manifest) {}

  private void file(Context ctx) throws IOException {
    TaskId taskId = taskId(ctx);
    SnapshotLender.LentFile file =
        lender.file(ctx.pathParam("snapshotId"), ctx.pathParam("name"), taskId, store(ctx));
    long size = file.listed().size();
    long first = 0;
    long last = size - 1;
    String range = ctx.header("Range");
    Matcher m = range == null ? null : SINGLE_RANGE.matcher(range.trim());
    boolean partial = m != null && m.matches();
    if (partial) {
      first = Long.parseLong(m.group(1));
      if (!m.group(2).isEmpty()) {
        last = Math.min(last, Long.parseLong(m.group(2)));
      }
      if (first >= size || first > last) {
        ctx.status(416);
        ctx.header("Content-Range", "bytes */" + size);
        ctx.json(
            new ApiError(
                    416,
                    "RANGE_NOT_SATISFIABLE",
                    "the range '" + range + "' is outside file of " + size + " bytes",
                    OptionalInt.empty())
                .body());
        return;
      }
    }
    long length = last - first + 1;
    ctx.header("Accept-Ranges", "bytes");
    ctx.header("X-Backbone-File-Crc32c", file.listed().crc32c());
    ctx.contentType("application/octet-stream");
    if (partial) {
      ctx.status(206);
      ctx.header("Content-Range", "bytes " + first + "-" + last + "/" + size);
    }
    try (FileChannel channel = FileChannel.open(file.path(), StandardOpenOption.READ)) {
      if (channel.size() != size) {
        throw new FatalBackboneException(
            "SNAPSHOT_FILE_CHANGED",
            "file "
                + file.listed().name()
                + " of snapshot "
                + ctx.pathParam("snapshotId")
                + " is "
                + channel.size()
                + " bytes, its manifest says "
                + size
                + "; ask for a new snapshot");
      }
      ctx.res().setContentLengthLong(length);
      channel.position(first);
      copy(Channels.newInputStream(channel), ctx.res().getOutputStream(), length);
    } catch (NoSuchFileException e) {
      throw HttpErrors.retriable(
          "SNAPSHOT_GONE",
          "file " + file.listed().name() + " of the snapshot was removed; ask for a new snapshot");
    }
  }

  private void release(Context ctx) {
    taskId(ctx);
    lender.release(ctx.pathParam("snapshotId"));
    ctx.status(204);
  }

  private static void copy(InputStream in, OutputStream out, long length) throws IOException {
    byte[] buffer = new byte[COPY_BUFFER_BYTES];
    long left = length;
    while (left > 0) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
      if (n < 0) {
        throw new IOException("file ended " + left + " bytes early");
      }
      out.write(buffer, 0, n);
      left -= n;
    }
    out.flush();
  }

  private static String store(Context ctx) {
    return ctx.pathParam("store");
  }

  private static TaskId taskId(Context ctx) {
    String text = ctx.pathParam("taskId");
    try {
      return TaskId.parse(text);
    } catch (RuntimeException e) {
      throw HttpErrors.fatal(
          HttpErrors.BAD_REQUEST,
          "'" + KeyCodec.abbreviate(text) + "' is not a task id (expected e.g. 0_3)");
    }
  }
}
