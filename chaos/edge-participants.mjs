// The edge participants: Miniflare (workerd) isolates running chaos/edge-worker.mjs,
// bundled from the built runtime-agnostic entry (dist/index.js) with
// @upstash/redis/cloudflare. Each reaches Redis through its own Upstash REST
// server (`pulselock upstash-dev`, a child process) whose Redis connection
// goes through its own TCP proxy, so a fault can partition one isolate alone.
// Each isolate lives in its own workerd process, so SIGKILL and SIGSTOP reach
// it as they reach a Node worker; a killed isolate is started again under a
// new incarnation name.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { WORKERD_BUNDLE } from "../test/support/workerd-bundle.mjs";
import { MISUSE_ODDS } from "./odds.mjs";
import { startProxyGroup } from "./proxy-group.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));

export async function bundleEdgeWorker() {
  const out = await build({
    entryPoints: [fileURLToPath(new URL("./edge-worker.mjs", import.meta.url))],
    ...WORKERD_BUNDLE,
    alias: { pulselock: `${root}dist/index.js` },
    nodePaths: [`${root}node_modules`],
  });
  return out.outputFiles[0].text;
}

/** Starts `pulselock upstash-dev` from the built CLI; resolves with { url, token, child }. */
async function startRestServer(redisUrl) {
  const child = spawn(process.execPath, [`${root}dist/cli.js`, "upstash-dev", "--redis", redisUrl, "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const found = {};
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const m = /^UPSTASH_REDIS_REST_(URL|TOKEN)=(.*)$/.exec(line);
    if (m) found[m[1].toLowerCase()] = m[2];
    if (found.url && found.token) break;
  }
  if (!found.url) throw new Error("pulselock upstash-dev did not print its URL");
  child.stdout.resume();
  return { ...found, child };
}

/** The pids of this process's workerd children. */
function workerdPids() {
  try {
    return execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" })
      .split("\n")
      .filter((line) => /\bworkerd\b/.test(line))
      .map((line) => Number(line.trim().split(/\s+/)[0]));
  } catch {
    return [];
  }
}

// Miniflare instances start one at a time, so that each one's new workerd child can be told apart.
let starting = Promise.resolve();

export async function startEdgeSlot({ index, redisPort, script, storeUrl, timings, log }) {
  const proxy = await startProxyGroup({ ports: [redisPort], cluster: false });
  const rest = await startRestServer(proxy.url);
  const slot = { name: `e${index}`, kind: "edge", proxy, incarnation: 0, busy: false, open: new Map(), processHashes: new Set() };
  slot.spawn = () => {
    const begin = async () => {
      slot.incarnation++;
      const worker = `${slot.name}.${slot.incarnation}`;
      const before = new Set(workerdPids());
      const mf = new Miniflare({
        modules: true,
        script,
        compatibilityDate: "2026-05-03",
        bindings: {
          UPSTASH_REDIS_REST_URL: rest.url,
          UPSTASH_REDIS_REST_TOKEN: rest.token,
          CHAOS_STORE_URL: storeUrl,
          CHAOS_WORKER: worker,
          CHAOS_TIMINGS: JSON.stringify(timings),
        },
      });
      await mf.ready;
      const pid = workerdPids().find((p) => !before.has(p));
      Object.assign(slot, { mf, worker, pid, killing: false, open: new Map() });
      log({ type: "worker-start", worker, kind: "edge", pid });
    };
    const resume = slot.resume;
    const started = (starting = starting.then(begin, begin));
    slot.ready = started;
    return started.then(() => resume?.());
  };
  /** Sends a signal to the isolate's workerd process (SIGSTOP, SIGCONT). */
  slot.signal = (sig) => process.kill(slot.pid, sig);
  /** SIGKILLs the isolate's workerd; resolves with what killSlot() resolves with. */
  slot.kill = async () => {
    slot.killing = true;
    slot.ready = new Promise((resolve) => (slot.resume = resolve)); // the request loop waits for the next incarnation
    const death = {
      held: [...new Set(slot.open.values())],
      hashes: [...slot.processHashes],
      killedAt: performance.timeOrigin + performance.now(),
      worker: slot.worker,
    };
    process.kill(slot.pid, "SIGKILL");
    log({ type: "worker-exit", worker: slot.worker, code: null, signal: "SIGKILL", killed: true });
    await slot.mf.dispose().catch(() => {});
    return death;
  };
  /** A request that busy-loops the isolate, next to the one running a job. */
  slot.block = (ms) => {
    slot.mf
      .dispatchFetch(`http://chaos/block?ms=${ms}`)
      .then((res) => res.arrayBuffer())
      .catch((error) => log({ type: "unhandled", worker: slot.worker, error: `block request failed: ${error.message}` }));
  };
  slot.close = async () => {
    await slot.mf.dispose();
    rest.child.kill("SIGTERM");
    await once(rest.child, "exit");
    await proxy.close();
  };
  await slot.spawn();
  return slot;
}

/** Runs jobs in the isolate, one request at a time, until stop() resolves. */
export function runEdgeLoop(slot, { random, keys, log }) {
  let stopping = false;
  let runs = 0;
  const stats = { refused: 0, acquireErrors: 0 };
  const loop = (async () => {
    while (!stopping) {
      const key = random.pick(keys);
      await slot.ready;
      const { mf, worker } = slot;
      const run = `${worker}/${runs++}`;
      try {
        const query = new URLSearchParams({ key, workMs: String(random.int(200, 2000)), run });
        // The misuse is decided here, from the seeded PRNG; the isolate only carries it out.
        if (random.chance(MISUSE_ODDS.ownRun)) query.set("misuseOwn", "1");
        if (random.chance(MISUSE_ODDS.refusal)) query.set("misuseRefusal", "1");
        const res = await mf.dispatchFetch(`http://chaos/run?${query}`);
        const body = await res.json();
        if (body.status === "SOMEONE_ELSE_HOLDS_LOCK") stats.refused++;
        if (body.status === "ACQUIRE_ERROR") stats.acquireErrors++;
        for (const error of body.unhandled) log({ type: "unhandled", worker, error });
      } catch (error) {
        // A request cut short by the isolate's SIGKILL is the fault, not a failure.
        if (!(slot.killing || slot.worker !== worker)) log({ type: "unhandled", worker, error: `request failed: ${error.message}` });
        await slot.ready;
      }
      await new Promise((r) => setTimeout(r, random.int(10, 80)));
    }
    log({ type: "idle", worker: slot.worker, ...stats });
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
    },
  };
}
