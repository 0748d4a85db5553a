#!/usr/bin/env node
// Builds dist/ (tsup) and shows its log only when it fails: `npm run demo` should show the demo, not 60 lines
// of build output. Any other command can be given instead (`node tools/build-quietly.mjs <cmd> [args…]`).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const [command, ...args] = process.argv.length > 2 ? process.argv.slice(2) : [`${root}node_modules/.bin/tsup`];
const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
const log = [];
child.stdout.on("data", (chunk) => log.push(chunk));
child.stderr.on("data", (chunk) => log.push(chunk));
child.on("error", (error) => {
  process.stderr.write(`build-quietly: cannot run ${command}: ${error.message}\n`);
  process.exitCode = 1;
});
child.on("close", (code, signal) => {
  if (code === 0) return;
  process.stderr.write(Buffer.concat(log));
  process.stderr.write(`build-quietly: the build failed (${signal ?? `exit code ${code}`}); its log is above\n`);
  process.exitCode = code || 1;
});
