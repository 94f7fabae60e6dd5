package dev.backbone.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The demo's cluster secret ({@code backbone.cluster.secret}): generated once into the data
 * directory, readable by its owner only, and read back by every later run on that directory, so all
 * nodes of the demo, and a restarted demo, share it.
 */
final class ClusterSecret {
  static final String FILE_NAME = "cluster-secret";

  private ClusterSecret() {}

  static String loadOrCreate(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      String secret = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (secret.length() < 16) {
        throw new IOException(
            file
                + " holds a cluster secret shorter than 16 characters; delete it to get a new one");
      }
      return secret;
    }
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    Files.createDirectories(dataDir);
    try {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
    Files.writeString(
        file, secret + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
    return secret;
  }
}
