// What RESULTS.md records about the run: machine, versions, command, date.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

export const PACKAGES = ["ioredis", "@upstash/redis", "redlock", "@sesamecare-oss/redlock", "redis-semaphore", "@upstash/lock", "bullmq"];

function version(pkg) {
  try {
    return JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, "utf8")).version;
  } catch {
    return "not installed";
  }
}

function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/** The command as the user typed it, as far as a process can tell. */
export function exactCommand(argv) {
  const args = argv.join(" ");
  if (process.env.npm_lifecycle_event === "bench") return `npm run bench${args ? ` -- ${args}` : ""}`;
  return `node bench/run.mjs${args ? ` ${args}` : ""}`;
}

export function environment(argv) {
  const cpu = cpus();
  const pulselock = JSON.parse(readFileSync(`${root}package.json`, "utf8")).version;
  return {
    date: new Date().toISOString(),
    cpu: `${cpu[0]?.model ?? "unknown"} × ${cpu.length}`,
    memoryGb: (totalmem() / 2 ** 30).toFixed(1),
    loadavg: loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
    node: process.version,
    redis: run(process.env.REDIS_SERVER_BIN || "redis-server", ["--version"]),
    commit: `${run("git", ["rev-parse", "--short", "HEAD"])}${run("git", ["status", "--porcelain"]) ? " (with uncommitted changes)" : ""}`,
    packages: { pulselock, ...Object.fromEntries(PACKAGES.map((p) => [p, version(p)])) },
    command: exactCommand(argv),
  };
}
