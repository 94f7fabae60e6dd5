package dev.backbone.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;

/**
 * {@code bin/backbone}: the entry point of every Backbone command. A bad flag prints one line
 * naming the problem plus a hint, and exits with status 2; a failure while running prints one line
 * and exits with status 1 (the stack trace goes to the log, not the terminal).
 */
@Command(
    name = "backbone",
    mixinStandardHelpOptions = true,
    versionProvider = BackboneCli.Version.class,
    description = "Kafka Streams as a platform: stateful processing and queryable state at scale.",
    subcommands = {
      DemoCommand.class,
      NodeCommand.class,
      KafkaCommand.class,
      LoadCommand.class,
      BenchCommand.class,
      RescaleCommand.class,
      ChangelogsCommand.class,
      CommandLine.HelpCommand.class
    })
public final class BackboneCli implements Runnable {
  /** Exit status of a command that was given bad flags. */
  static final int EXIT_USAGE = 2;

  /** Exit status of a command that failed while running. */
  static final int EXIT_FAILURE = 1;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "a command is required");
  }

  /**
   * Runs the CLI and exits the JVM with the command's status.
   *
   * @param args command-line arguments
   */
  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /**
   * Runs the CLI without exiting the JVM, for tests and embedding.
   *
   * @param args command-line arguments
   * @return the exit status
   */
  public static int execute(String... args) {
    return commandLine().execute(args);
  }

  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new BackboneCli());
    cli.setParameterExceptionHandler(new OneLineUsageError());
    cli.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          org.slf4j.LoggerFactory.getLogger(BackboneCli.class)
              .debug("{} failed", commandLine.getCommandName(), ex);
          commandLine
              .getErr()
              .println("backbone " + commandLine.getCommandName() + ": " + describe(ex));
          return EXIT_FAILURE;
        });
    return cli;
  }

  private static String describe(Throwable ex) {
    String message = ex.getMessage();
    return message == null || message.isBlank() ? ex.getClass().getSimpleName() : message;
  }

  /** One line for the problem, one for where to look; never the whole usage dump. */
  private static final class OneLineUsageError implements IParameterExceptionHandler {
    @Override
    public int handleParseException(ParameterException ex, String[] args) {
      CommandLine cmd = ex.getCommandLine();
      PrintWriter err = cmd.getErr();
      err.println("backbone " + cmd.getCommandName() + ": " + ex.getMessage());
      err.println("Try 'backbone " + qualifiedName(cmd) + " --help'.");
      return EXIT_USAGE;
    }

    private static String qualifiedName(CommandLine cmd) {
      String full = cmd.getCommandSpec().qualifiedName(" ");
      return full.startsWith("backbone ") ? full.substring("backbone ".length()) : "";
    }
  }

  /** The version from the jar's manifest, or "dev" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = BackboneCli.class.getPackage().getImplementationVersion();
      return new String[] {"backbone " + (v == null ? "dev" : v)};
    }
  }
}
