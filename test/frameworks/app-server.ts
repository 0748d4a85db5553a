/*
 * Runs an example app the way its users do: copied out of the repository (so
 * nothing resolves from the repository's node_modules: no ioredis), with its
 * committed lockfile, and pulselock installed from `npm pack` of this build;
 * then its real dev server or production server on a free port.
 */
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "../support/redis-server.mjs";
import { waitFor } from "../support/wait-for";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
/** Left out of the copy: what an install or a build makes. */
const GENERATED = new Set(["node_modules", ".next", ".wrangler", "next-env.d.ts"]);

export interface PreparedApp {
  dir: string;
  remove(): void;
}

/** Copies examples/<name> to a scratch directory and installs it, with pulselock from this build's tarball. */
export async function prepareApp(name: string, extraPackages: string[] = []): Promise<PreparedApp> {
  const dir = mkdtempSync(join(tmpdir(), `pulselock-${name}-`));
  cpSync(join(root, "examples", name), dir, { recursive: true, filter: (src) => !GENERATED.has(basename(src)) });
  const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: root });
  const tarball = stdout.trim().split("\n").pop()!;
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  manifest.dependencies.pulselock = `file:./${tarball}`;
  writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  // Everything else comes from the committed lockfile (and npm's cache once it has run).
  const npm = (args: string[]) => run("npm", [...args, "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir, timeout: 300_000 });
  await npm(["install"]);
  if (extraPackages.length) await npm(["install", "--no-save", ...extraPackages]);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a command to its end in the app; its output is in the error when it fails. */
export async function runIn(dir: string, command: string, args: string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: dir, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 << 20 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`, { cause: error });
  }
}

export interface AppServer {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a server (`{port}` in args is replaced) and waits until its output matches `ready`. */
export async function startServer(dir: string, command: string, args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<AppServer> {
  const port = await freePort();
  const child = spawn(
    command,
    args.map((a) => a.replace("{port}", String(port))),
    {
      cwd: dir,
      env: { ...process.env, ...env, PORT: String(port) },
      detached: true, // its own process group: stop() ends the server and whatever it spawned
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (out += c));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Gone already: nothing left to kill.
      }
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(
      `${command} ${args.join(" ")} to be ready`,
      () => {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${out}`);
        return ready.test(out);
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${out}`, { cause: error });
  }
  return { url: `http://127.0.0.1:${port}`, output: () => out, stop };
}

/** GETs a JSON route; a reply that is not JSON fails with what the server said. */
export async function getJson(url: string): Promise<never> {
  const res = await fetch(url);
  const text = await res.text();
  try {
    return JSON.parse(text) as never;
  } catch {
    throw new Error(`GET ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
}

export const hasModule = (dir: string, name: string) => existsSync(join(dir, "node_modules", name));
