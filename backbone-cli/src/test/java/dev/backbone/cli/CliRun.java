package dev.backbone.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;

/**
 * One run of {@code bin/backbone}'s command line in this JVM, with what it prints on stdout and
 * stderr captured; readable while the command is still running (a StringWriter is thread-safe).
 */
final class CliRun {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private final CompletableFuture<Integer> exit;

  private CliRun(String... args) {
    CommandLine cli = BackboneCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    exit = CompletableFuture.supplyAsync(() -> cli.execute(args));
  }

  /** Starts the command on another thread. */
  static CliRun start(String... args) {
    return new CliRun(args);
  }

  /** Runs the command to its end. */
  static CliRun run(String... args) {
    CliRun run = new CliRun(args);
    run.exit.join();
    return run;
  }

  /** The exit status, once the command has ended. */
  CompletableFuture<Integer> exit() {
    return exit;
  }

  /** What the command printed on stdout so far. */
  String out() {
    return out.toString();
  }

  /** What the command printed on stderr so far (logs go elsewhere). */
  String err() {
    return err.toString();
  }
}
