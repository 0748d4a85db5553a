#!/usr/bin/env node
/*
 * The `pulselock` command: dispatches its first word to a subcommand, and
 * answers --help and --version the way command-line users expect. Each
 * subcommand has its own --help: `inspect` and `release` (operations: see
 * and free locks), `upstash-dev` (a local Upstash-compatible REST server).
 */
import { readFileSync } from "node:fs";
import { main as inspect } from "./inspect";
import { main as release } from "./release";
import { main as upstashDev } from "./upstash-dev/cli";

const COMMANDS: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  inspect: { summary: "list held locks: owner, alive or dead, held for, expires in, fencing token", run: inspect },
  release: { summary: "free a lock whose owner's process is dead", run: release },
  "upstash-dev": {
    summary: "serve the Upstash REST protocol in front of a local redis-server",
    run: upstashDev,
  },
};

const HELP = `usage: pulselock <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join("\n")}

  pulselock <command> --help   options of one command
  pulselock --version          the installed version

pulselock is a library; this command holds its operations and development tools. See the README:
https://github.com/pulselock/pulselock#readme`;

/** The version of the installed package: dist/cli.js sits one folder below its package.json. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

async function run(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || first === "help") {
    // `pulselock help <command>` is `pulselock <command> --help`.
    const command = first === "help" && rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    if (command) return command.run(["--help"]);
    if (first === "help" && rest[0] !== undefined) return unknown(rest[0]);
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (first === "--version" || first === "-v" || first === "version") {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (first === undefined) {
    process.stderr.write(`${HELP}\n`);
    return 2;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  return command ? command.run(rest) : unknown(first);
}

function unknown(name: string): number {
  process.stderr.write(`pulselock: unknown command ${JSON.stringify(name)}\n\n${HELP}\n`);
  return 2;
}

// A reader that stops early (`pulselock inspect | head`) closes the pipe: that ends the output, quietly, as for any
// command-line tool, instead of an EPIPE stack.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(0);
});

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`pulselock: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
