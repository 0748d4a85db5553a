// Runs the edge smoke in workerd (Miniflare, no nodejs_compat) and in Vercel's
// edge runtime (@edge-runtime/vm), each from a bundle that esbuild builds out
// of the temp project, so `pulselock` is the installed tarball's root entry.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { EdgeVM } from "@edge-runtime/vm";
import { build } from "esbuild";
import { WORKERD_BUNDLE } from "../support/workerd-bundle.mjs";
import { Miniflare } from "miniflare";

const require = createRequire(import.meta.url);

function versionOf(pkg, from = import.meta.url) {
  const req = createRequire(from);
  const main = req.resolve(pkg);
  const dir = main.slice(0, main.lastIndexOf(`/node_modules/${pkg}/`) + `/node_modules/${pkg}/`.length);
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
}

async function bundle(project, entry, options) {
  const out = await build({
    entryPoints: [join(project, entry)],
    absWorkingDir: project,
    bundle: true,
    write: false,
    target: "es2022",
    logLevel: "silent",
    ...options,
  });
  return out.outputFiles[0].text;
}

function row(runtime, version, result, started) {
  const ok = !result.error && result.exclusive === true && result.tokens === true && result.process === "undefined";
  return {
    runtime,
    version,
    format: "ESM bundle",
    liveness: result.liveness ?? "?",
    exclusive: result.exclusive === true,
    tokens: result.tokens === true,
    signals: result.signals === true,
    blocked: "n/a",
    exits: "n/a",
    upstash: "n/a",
    takeoverMs: "n/a",
    ok,
    error: result.error ?? (result.process === "undefined" ? null : `process is ${result.process} in the isolate`),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

export async function runWorkerd(project, rest) {
  const started = performance.now();
  let mf;
  try {
    const { format, platform, conditions, mainFields } = WORKERD_BUNDLE;
    const script = await bundle(project, "smoke/workerd.mjs", { format, platform, conditions, mainFields });
    mf = new Miniflare({
      modules: true,
      script,
      compatibilityDate: "2026-05-03",
      bindings: { UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token },
    });
    const res = await mf.dispatchFetch(`http://localhost/?key=workerd-${crypto.randomUUID()}`);
    return row("workerd (Miniflare)", versionOf("workerd", require.resolve("miniflare")), await res.json(), started);
  } catch (error) {
    return row("workerd (Miniflare)", "?", { error: String(error?.stack ?? error) }, started);
  } finally {
    await mf?.dispose();
  }
}

export async function runEdgeRuntime(project, rest) {
  const started = performance.now();
  try {
    const script = await bundle(project, "smoke/edge-runtime.mjs", {
      format: "iife",
      platform: "browser",
      conditions: ["edge-light", "worker", "browser"],
      // As Next.js does for edge routes: process.env is inlined at build time; the runtime has no process.
      define: { "process.env": "{}" },
    });
    const vm = new EdgeVM();
    vm.evaluate(script);
    const args = { url: rest.url, token: rest.token, key: `edge-${crypto.randomUUID()}` };
    const result = await vm.evaluate(`runSmoke(${JSON.stringify(args)})`);
    return row("Vercel edge-runtime", versionOf("edge-runtime"), result, started);
  } catch (error) {
    return row("Vercel edge-runtime", "?", { error: String(error?.stack ?? error) }, started);
  }
}
