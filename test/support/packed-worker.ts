import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll } from "vitest";
import { WORKERD_BUNDLE } from "./workerd-bundle.mjs";

/*
 * Cloudflare Workers in workerd (Miniflare) built as a user builds them: the *packed* package (npm pack, unpacked
 * into a scratch project's node_modules) bundled with @upstash/redis/cloudflare, without nodejs_compat.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));

/** examples/cloudflare-worker/wrangler.toml, read as wrangler would for the fields tests need (flat `key = "value"` lines). */
export function exampleWranglerToml(): Record<string, string> {
  const text = readFileSync(join(root, "examples/cloudflare-worker/wrangler.toml"), "utf8");
  return Object.fromEntries([...text.matchAll(/^(\w+) = "([^"]*)"$/gm)].map((m) => [m[1]!, m[2]!]));
}

/**
 * A scratch project for the test file, made in beforeAll and removed in afterAll: pulselock installed from its
 * tarball, and `sources` (repository paths: folders or files) copied into its src/.
 */
export function usePackedProject(sources: string[]): { dir: () => string } {
  let scratch: string | undefined;
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "pulselock-worker-"));
    const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", scratch], { cwd: root });
    const tarball = join(scratch, stdout.trim().split("\n").pop()!);
    const pkg = join(scratch, "node_modules", "pulselock");
    mkdirSync(pkg, { recursive: true });
    await run("tar", ["-xzf", tarball, "-C", pkg, "--strip-components=1"]);
    for (const source of sources) {
      const from = join(root, source);
      cpSync(from, source.endsWith(".ts") ? join(scratch, "src", basename(from)) : join(scratch, "src"), { recursive: true });
    }
  }, 120_000);
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  return { dir: () => scratch! };
}

/** Bundles `entry` of the scratch project into one ES module for workerd: pulselock from the tarball, @upstash/redis from the repository. */
export async function bundleWorker(scratch: string, entry: string): Promise<string> {
  const out = await build({
    entryPoints: [join(scratch, entry)],
    ...WORKERD_BUNDLE,
    nodePaths: [join(root, "node_modules")],
  });
  return out.outputFiles[0]!.text;
}

/**
 * A Worker in workerd with the example's compatibility date and no compatibility flags (no nodejs_compat, which the
 * test would otherwise pass on); everything workerd prints (the Worker's console, its own warnings) goes to `output`.
 */
export function startWorker(script: string, bindings: Record<string, string>, output: string[]): Miniflare {
  const collect = (stream: Readable) => {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => output.push(chunk));
  };
  return new Miniflare({
    modules: true,
    script,
    compatibilityDate: exampleWranglerToml().compatibility_date,
    compatibilityFlags: [],
    bindings,
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => (collect(stdout), collect(stderr)),
  });
}
