// The matrix's scratch project: the packed tarball (never the source tree)
// installed with the clients and the runtimes, all pinned. The runtimes are
// npm packages installed here only: as devDependencies of pulselock, node@22's
// bin would shadow the system Node inside npm scripts.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const PINNED = [
  "ioredis@6.0.0",
  "@upstash/redis@1.39.0",
  "@types/node@20.19.9",
  "node@22.23.3",
  "@oven/bun-linux-x64@1.4.5",
  "@deno/linux-x64-glibc@2.9.6",
  // pulselock/opentelemetry's optional peer and the SDK parts the ops check records into (test/matrix/ops.mjs).
  "@opentelemetry/api@1.9.1",
  "@opentelemetry/sdk-metrics@2.12.1",
  "@opentelemetry/sdk-trace-base@2.12.1",
];

/** Packs `root`, installs the tarball and PINNED into a new temp project, copies `copies` ([from, to]) into it. */
export async function createTempProject(root, copies) {
  const dir = mkdtempSync(join(tmpdir(), "pulselock-matrix-"));
  const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: root });
  const tarball = join(dir, stdout.trim().split("\n").pop());
  const project = join(dir, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "pulselock-matrix", private: true, type: "module" }, null, 2));
  await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "--save-exact", tarball, ...PINNED], {
    cwd: project,
    maxBuffer: 16 * 1024 * 1024,
  });
  for (const [from, to] of copies) cpSync(join(root, from), join(project, to), { recursive: true });
  const modules = join(project, "node_modules");
  return {
    dir,
    project,
    tarball,
    bin: {
      node20: process.execPath,
      node22: join(modules, "node", "bin", "node"),
      bun: join(modules, "@oven", "bun-linux-x64", "bin", "bun"),
      deno: join(modules, "@deno", "linux-x64-glibc", "deno"),
    },
  };
}
