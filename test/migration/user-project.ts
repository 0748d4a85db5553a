// Runs a migrating user's project (a fixture folder) with the real tool they run it with: jest, tsx, node.
// The project sees pulselock as an installed package (node_modules/pulselock links to this repository, whose
// package.json "exports" pick dist/ files), so resolution goes through the package's export conditions.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { startRedis } from "../support/redis-server.mjs";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export function projectPath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** The repository's own node_modules/.bin tool, as `npx <tool>` would run it. */
export function bin(tool: string): string {
  return `${repoRoot}node_modules/.bin/${tool}`;
}

/** Links node_modules/pulselock of the project to this repository; returns the unlink. */
export function installPulselock(project: string): () => void {
  const link = `${projectPath(project)}/node_modules/pulselock`;
  rmSync(link, { force: true, recursive: true });
  mkdirSync(`${projectPath(project)}/node_modules`, { recursive: true });
  symlinkSync(repoRoot, link, "dir");
  return () => rmSync(`${projectPath(project)}/node_modules`, { force: true, recursive: true });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args` in the project folder until it exits; killed after `timeoutMs` so that a hang fails the test. */
export function runIn(project: string, command: string, args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: projectPath(project), env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => (clearTimeout(timer), reject(e)));
    child.on("close", (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}

/**
 * For a test file: links pulselock into `project` (when given) and spawns a redis-server, both for the whole
 * file; returns the environment a fixture reads the server's URL from.
 */
export function useRedisFor(project?: string): () => Record<string, string> {
  let server: Awaited<ReturnType<typeof startRedis>> | undefined;
  let uninstall: (() => void) | undefined;
  beforeAll(async () => {
    server = await startRedis();
    if (project) uninstall = installPulselock(project);
  });
  afterAll(async () => {
    uninstall?.();
    await server?.close();
  });
  return () => ({ PULSELOCK_TEST_REDIS_URL: server!.url });
}
