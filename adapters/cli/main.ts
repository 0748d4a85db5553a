#!/usr/bin/env node
/*
 * The `pulselock` command: dispatches its first word to a subcommand.
 * Today there is one, `upstash-dev` (a local Upstash-compatible REST server).
 */
import { main as upstashDev } from "../upstash-dev/cli";

const USAGE = "usage: pulselock upstash-dev --redis <redis://host:port> [--port <n>] [--host <h>] [--token <t>]";

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "upstash-dev") return upstashDev(rest);
  process.stderr.write(`${command ? `pulselock: unknown command ${JSON.stringify(command)}\n` : ""}${USAGE}\n`);
  return 2;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`pulselock: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
