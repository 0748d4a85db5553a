// Takeover after SIGKILL: the time from killing a process that runs a job
// (acquireAndRun) until another process is running that job. The holders of
// one scenario run in parallel, one process and one key each; one contender
// process polls every key.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { percentile, sleep, wallNow, withDeadline } from "./lib/loop.mjs";

/** The contender retries every 10 ms: short against reportTtlMs, so the poll adds at most 10 ms to a takeover. */
export const POLL_MS = 10;

export const SCENARIOS = [
  { name: "reportTtlMs 1000", options: { reportTtlMs: 1000, reportWriteMs: 200 } },
  { name: "defaults", options: {} },
];

const file = (name) => fileURLToPath(new URL(`./workers/${name}`, import.meta.url));

function forkWorker(name, args) {
  const child = fork(file(name), args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = new Promise((resolve, reject) => {
    child.on("message", (m) => m.type === "ready" && resolve());
    child.once("exit", (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready`)));
  });
  ready.catch(() => {});
  return { child, ready };
}

async function runScenario({ redis, scenario, repeats }) {
  const optionsJson = JSON.stringify(scenario.options);
  const contender = forkWorker("takeover-contender.mjs", [redis.url, optionsJson, String(POLL_MS)]);
  const holders = Array.from({ length: repeats }, (_, i) => ({
    key: `takeover:${scenario.name}:${i}:${process.pid}`,
  }));
  for (const h of holders) Object.assign(h, forkWorker("takeover-holder.mjs", [redis.url, h.key, optionsJson]));
  const running = new Map();
  contender.child.on("message", (m) => m.type === "running" && running.set(m.key, m.at));
  try {
    await withDeadline(Promise.all([contender.ready, ...holders.map((h) => h.ready)]), 60_000, "starting the holders");
    for (const h of holders) contender.child.send({ key: h.key });
    // Kill at random moments of the holders' write cycles, not all in step with one of them.
    const writeMs = scenario.options.reportWriteMs ?? 2000;
    await Promise.all(
      holders.map(async (h) => {
        await sleep(Math.random() * writeMs);
        h.killedAt = wallNow();
        h.child.kill("SIGKILL");
      }),
    );
    const ttl = scenario.options.reportTtlMs ?? 10_000;
    const deadline = Date.now() + ttl * 3 + 10_000;
    while (running.size < repeats && Date.now() < deadline) await sleep(20);
    if (running.size < repeats) throw new Error(`only ${running.size} of ${repeats} jobs were taken over`);
    const latencies = holders.map((h) => running.get(h.key) - h.killedAt);
    return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: Math.max(...latencies), reportTtlMs: ttl, repeats };
  } finally {
    for (const { child } of [...holders, contender]) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

export async function measureTakeover({ redis, repeats, log }) {
  const results = {};
  for (const scenario of SCENARIOS) {
    const r = (results[scenario.name] = await runScenario({ redis, scenario, repeats }));
    log(`  ${scenario.name}: p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms, max ${r.max.toFixed(0)} ms (${repeats} kills)`);
  }
  return { pollMs: POLL_MS, scenarios: results };
}
