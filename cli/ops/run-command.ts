/*
 * One subcommand's outer shell: its --help, its usage errors (exit code 2,
 * with the usage), its CliErrors (one line, exit code 1 or theirs), and never
 * a stack trace for what a person at a terminal got wrong.
 */
import { CliError, UsageError } from "./args";

export async function runCommand(name: string, usage: string, body: () => Promise<number | "help">): Promise<number> {
  try {
    const code = await body();
    if (code !== "help") return code;
    process.stdout.write(`${usage}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`pulselock ${name}: ${error.message}\n\n${usage}\n`);
      return 2;
    }
    if (error instanceof CliError) {
      process.stderr.write(`pulselock ${name}: ${error.message}\n`);
      return error.code;
    }
    throw error;
  }
}
