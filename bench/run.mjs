// `npm run bench [-- --quick] [-- --only=ceiling,uncontended,requests,overhead,singleton,takeover,handoff,memory,otel,inspect,multi-key,semaphore]`
// Spawns its own redis-server (free loopback port, never 6379) and the Upstash
// REST server, runs each measurement in sequence in one run, prints the table
// with targets, ratios and PASS/MISS, and writes bench/RESULTS.md.
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { measureCeiling } from "./ceiling.mjs";
import { measureHandoff } from "./handoff.mjs";
import { measureInspect } from "./inspect-scale.mjs";
import { environment } from "./lib/environment.mjs";
import { IOREDIS_PEERS, UPSTASH_PEERS } from "./lib/peers.mjs";
import { buildRows, printTable, writeResults } from "./lib/report.mjs";
import { startServers } from "./lib/servers.mjs";
import { measureMemory } from "./memory.mjs";
import { measureMultiKey, multiKeyRows } from "./multi-key.mjs";
import { measureOverhead } from "./overhead.mjs";
import { measureOtelOverhead } from "./otel-overhead.mjs";
import { measureSemaphore } from "./semaphore.mjs";
import { measureSingletonJobs } from "./singleton-jobs.mjs";
import { measureTakeover } from "./takeover.mjs";
import { measureUncontended } from "./uncontended.mjs";
import { measureUpstashRequests } from "./upstash-requests.mjs";

const PHASES = ["ceiling", "uncontended", "requests", "overhead", "singleton", "takeover", "handoff", "memory", "otel", "inspect", "multi-key", "semaphore"];
const USAGE = `usage: npm run bench [-- --quick] [-- --only=<list>] [-- --peers=<list>] [-- --out=<file>]
  --quick   short phases for iterating (1 round of 1 s per throughput phase, 2,000 jobs, 5 kills, 10 hand-offs)
  --only    measurements to run: ${PHASES.join(",")}
  --peers   libraries in the uncontended phase: ${[...Object.keys(IOREDIS_PEERS), ...Object.keys(UPSTASH_PEERS)].join(",")}
  --out     where to write the results (default bench/RESULTS.md)`;

const FULL = {
  durationMs: 5000,
  roundMs: 2000,
  rounds: 3,
  warmupMs: 500,
  jobs: 20_000,
  takeoverRepeats: 20,
  handoffRepeats: 50,
  locks: 10_000,
  settleMs: 5000,
};
const QUICK = { durationMs: 1000, roundMs: 1000, rounds: 1, warmupMs: 300, jobs: 2000, takeoverRepeats: 5, handoffRepeats: 10, locks: 1000, settleMs: 2000 };

function parseArgs(argv) {
  const opts = { quick: false, only: null, peers: null, out: fileURLToPath(new URL("./RESULTS.md", import.meta.url)) };
  for (const arg of argv) {
    const [flag, value] = arg.split("=", 2);
    if (flag === "--quick") opts.quick = true;
    else if (flag === "--only" && value) opts.only = value.split(",");
    else if (flag === "--peers" && value) opts.peers = value.split(",");
    else if (flag === "--out" && value) opts.out = value;
    else {
      console.error(`${arg === "--help" || arg === "-h" ? "" : `unknown argument ${arg}\n`}${USAGE}`);
      process.exit(arg === "--help" || arg === "-h" ? 0 : 2);
    }
  }
  return opts;
}

const argv = process.argv.slice(2);
const opts = parseArgs(argv);
const settings = { mode: opts.quick ? "quick" : "full", ...(opts.quick ? QUICK : FULL) };
const wants = (name) => !opts.only || opts.only.includes(name);
const log = (line) => console.log(line);
const env = environment(argv);
const started = performance.now();

const servers = await startServers({ upstash: wants("uncontended") || wants("requests") });
const ctx = { ...servers, ...settings, log };
const results = {};
const notes = [];
try {
  const phase = async (name, title, fn) => {
    if (!wants(name)) return;
    log(`${title} …`);
    const t = performance.now();
    results[name] = await fn();
    log(`  (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  };
  await phase("ceiling", "Ceiling", async () => {
    const r = await measureCeiling(ctx);
    log(`  ${Math.round(r.opsPerSec)} ops/s`);
    return r;
  });
  await phase("uncontended", "Uncontended acquire+release pairs", () => measureUncontended({ ...ctx, only: opts.peers }));
  // A shared machine's bursts can sink one measurement: the ceiling is taken again after the peers, and the higher counts.
  if (results.ceiling && results.uncontended) {
    const again = await measureCeiling(ctx);
    log(`Ceiling again: ${Math.round(again.opsPerSec)} ops/s`);
    results.ceiling.runs = [results.ceiling.opsPerSec, again.opsPerSec];
    results.ceiling.opsPerSec = Math.max(...results.ceiling.runs);
  }
  await phase("semaphore", "Semaphore acquire+release pairs", () => measureSemaphore(ctx));
  await phase("requests", "HTTP requests per acquireAndRun over Upstash REST", async () => {
    const r = await measureUpstashRequests(ctx);
    log(
      `  pulselock: ${r.pulselock.first.total} (new isolate), ${r.pulselock.again.map((t) => t.total).join("/")} (idle again); @upstash/lock: ${r.upstashLock.map((t) => t.total).join("/")}`,
    );
    return r;
  });
  await phase("overhead", "Client CPU split (diagnostic)", async () => {
    const r = await measureOverhead(ctx);
    log(
      `  pulselock alone ${r.pulselockUsPerPair.toFixed(1)} µs/pair, ${r.pulselockUsPerRun.toFixed(1)} µs/acquireAndRun; one ioredis EVALSHA ${r.ioredisUsPerEvalsha.toFixed(1)} µs`,
    );
    return r;
  });
  await phase("singleton", "Singleton jobs", () => measureSingletonJobs(ctx));
  await phase("takeover", "Takeover after SIGKILL", () => measureTakeover({ ...ctx, repeats: settings.takeoverRepeats }));
  await phase("handoff", "Hand-off to a waiting mutex()", () => measureHandoff({ ...ctx, repeats: settings.handoffRepeats }));
  await phase("memory", "Memory", () => measureMemory(ctx));
  await phase("otel", "OpenTelemetry cost (interleaved rounds, medians)", () => measureOtelOverhead({ ...ctx, quick: opts.quick }));
  await phase("inspect", "pulselock inspect with 100,000 locks held", () => measureInspect({ ...ctx, locks: opts.quick ? 10_000 : 100_000 }));
  await phase("multi-key", "Multi-key lock pairs (3 keys)", () => measureMultiKey(ctx));
} finally {
  await servers.close();
}

if (results.takeover)
  notes.push(
    `Takeover: the contender retries every ${results.takeover.pollMs} ms; all kills of one scenario run in parallel, one holder process and one key each.`,
  );
if (results.handoff) notes.push(`Hand-off: the holder keeps the lock ${results.handoff.holdMs.join("–")} ms (random) after the waiter started waiting.`);
env.loadavgEnd = loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");
notes.push(`Total time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
const rows = buildRows(results);
if (results["multi-key"]) rows.push(...multiKeyRows(results["multi-key"]));
console.log("");
printTable(rows);
writeResults(opts.out, { env, settings, rows, results, notes });
console.log(`\nwrote ${opts.out}`);
