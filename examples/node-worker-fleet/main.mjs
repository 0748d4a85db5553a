// @ts-check
// A rolling restart of a worker fleet, checked: WORKERS processes share
// PARTITIONS partitions, one consumer each (worker.mjs). Once every partition
// has its consumer, one worker gets SIGTERM: it drains, releases its
// partitions and exits, and the others take them over at once — far sooner
// than reportTtlMs, the wait after a crash (see `npm run demo` for that case).
// Then the whole fleet is stopped the same way.
//
//   node examples/node-worker-fleet/main.mjs          (spawns its own redis-server)
//   REDIS_URL=redis://host:port node examples/node-worker-fleet/main.mjs
//
// Exits 0 when every partition always had at most one consumer, the drained
// worker's partitions were taken over within reportTtlMs, every worker exited
// cleanly and nothing was left in Redis.
import { randomBytes } from "node:crypto";
import { DEFAULTS } from "pulselock";
import { exampleRedis, takeKeys } from "../support/example-redis.mjs";
import { forkMember } from "../support/fork-member.mjs";

const WORKERS = 3;
const PARTITIONS = ["orders-0", "orders-1", "orders-2", "orders-3", "orders-4", "orders-5"];
/** Two workers can carry every partition, so the fleet survives one leaving. */
const MAX_OWNED = Math.ceil(PARTITIONS.length / (WORKERS - 1));
const STEP_DEADLINE_MS = 30_000;

/**
 * @typedef {{ worker: string, t: number } & (
 *   | { type: "owned", partition: string, token: number }
 *   | { type: "released" | "lost", partition: string, message: string, stoppedAt: number }
 *   | { type: "warn", message: string }
 *   | { type: "stopped" })} WorkerEvent
 *   What a worker reports (worker.mjs, report()).
 * @typedef {{ worker: string, partition: string, token: number, start: number, end: number | null }} Hold
 * @typedef {{ name: string, child: import("node:child_process").ChildProcess, exited: Promise<number | null> }} Worker
 */

const t0 = Date.now();
/** @type {string[]} */
const failures = [];
const stamp = (/** @type {number} */ t) => `+${((t - t0) / 1000).toFixed(2)}s`.padStart(8);
const ok = (/** @type {boolean} */ cond) => (cond ? "✔" : "✖");

const redis = await exampleRedis();
const prefix = `fleet-example:${randomBytes(4).toString("hex")}:`;
console.log(`worker fleet: ${WORKERS} workers, ${PARTITIONS.length} partitions, at most ${MAX_OWNED} per worker`);
console.log(`redis ${redis.url}${redis.spawned ? " (spawned for this run)" : ""}, key prefix "${prefix}"\n`);

/** @type {Hold[]} */
const holds = [];
/** Wakes step() whenever an event arrives. */
let changed = () => {};

/**
 * @param {WorkerEvent} e
 */
function onEvent(e) {
  const who = `${stamp(e.t)}  ${e.worker.padEnd(9)}`;
  if (e.type === "owned") {
    holds.push({ worker: e.worker, partition: e.partition, token: e.token, start: e.t, end: null });
    console.log(`${who} consumes ${e.partition} (fencing token ${e.token})`);
  } else if (e.type === "released" || e.type === "lost") {
    const hold = holds.findLast((h) => h.worker === e.worker && h.partition === e.partition && h.end === null);
    // A hold ends when its consumer stopped, not when the worker heard back from the release: by then
    // a successor may rightly have started.
    if (hold) hold.end = e.stoppedAt || e.t;
    if (e.type === "lost") failures.push(`${e.worker} lost ${e.partition}: ${e.message}`);
    console.log(`${who} ${e.type === "released" ? "released" : "LOST"} ${e.partition}${e.type === "lost" ? `: ${e.message}` : " (draining)"}`);
  } else if (e.type === "warn") {
    console.log(`${who} warning: ${e.message}`);
  }
  changed();
}

/** @type {Worker[]} */
const workers = [];
for (let i = 0; i < WORKERS; i++) {
  const name = `worker-${i}`;
  const { child, exited } = forkMember(
    new URL("./worker.mjs", import.meta.url),
    { REDIS_URL: redis.url, FLEET_PREFIX: prefix, FLEET_WORKER: name, FLEET_PARTITIONS: JSON.stringify(PARTITIONS), FLEET_MAX_OWNED: String(MAX_OWNED) },
    (event) => onEvent(/** @type {WorkerEvent} */ (event)),
  );
  workers.push({ name, child, exited: exited.then(({ code }) => (changed(), code)) });
}

/** The current consumer of each partition. */
const consumers = () => new Map(holds.filter((h) => h.end === null).map((h) => [h.partition, h.worker]));

/**
 * Waits until `done()` holds, re-checking on every event; false after STEP_DEADLINE_MS.
 * @param {() => boolean} done
 */
async function step(done) {
  const deadline = Date.now() + STEP_DEADLINE_MS;
  while (!done()) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.min(left, 500));
      changed = () => (clearTimeout(timer), resolve(undefined));
    });
  }
  return true;
}

// 1. Every partition gets its consumer.
if (!(await step(() => consumers().size === PARTITIONS.length))) failures.push("not every partition got a consumer");

// 2. A rolling restart: SIGTERM the worker with the most partitions.
const before = consumers();
const counts = workers.map((w) => [...before.values()].filter((c) => c === w.name).length);
const victim = workers[counts.indexOf(Math.max(...counts))] ?? workers[0];
const moved = [...before].filter(([, c]) => c === victim?.name).map(([p]) => p);
const termAt = Date.now();
console.log(`${stamp(termAt)}  ▶ SIGTERM ${victim?.name} (consumes ${moved.join(", ")}): it drains and releases them`);
victim?.child.kill("SIGTERM");
const victimCode = victim ? await victim.exited : null;
const handedOver = await step(() =>
  moved.every((p) => {
    const c = consumers().get(p);
    return c !== undefined && c !== victim?.name;
  }),
);
const handoverMs = Date.now() - termAt;
if (victimCode !== 0) failures.push(`${victim?.name} exited with code ${victimCode} after SIGTERM`);
if (!handedOver) failures.push(`the drained worker's partitions were not all taken over: ${moved.join(", ")}`);
else if (handoverMs >= DEFAULTS.reportTtlMs)
  failures.push(`the takeover took ${handoverMs} ms, as long as a crash would (reportTtlMs ${DEFAULTS.reportTtlMs})`);

// 3. Stop the rest of the fleet the same way.
console.log(`${stamp(Date.now())}  ▶ SIGTERM the rest of the fleet`);
for (const w of workers) if (w !== victim) w.child.kill("SIGTERM");
const codes = await Promise.race([Promise.all(workers.map((w) => w.exited)), new Promise((resolve) => setTimeout(resolve, STEP_DEADLINE_MS, null).unref())]);
if (codes === null) {
  failures.push("the fleet did not stop within its deadline");
  for (const w of workers) w.child.kill("SIGKILL");
} else {
  for (const [i, code] of /** @type {(number | null)[]} */ (codes).entries()) {
    if (code !== 0) failures.push(`${workers[i]?.name} exited with code ${code}`);
  }
}

const leftovers = [...(await takeKeys(redis.url, prefix)).keys()];
await redis.close();

// ---------------------------------------------------------------- summary

/** @type {string[]} */
const overlaps = [];
for (const partition of PARTITIONS) {
  const list = holds.filter((h) => h.partition === partition).sort((a, b) => a.start - b.start);
  list.forEach((b, i) => {
    const a = list[i - 1];
    if (a && (a.end === null || b.start < a.end)) overlaps.push(`${partition}: ${a.worker} and ${b.worker}`);
  });
}
failures.push(...overlaps.map((o) => `two consumers at once: ${o}`));
if (leftovers.length) failures.push(`keys left in Redis: ${leftovers.join(", ")}`);

console.log("\nSummary");
console.log(
  `  ${ok(!overlaps.length)} one consumer per partition: ${overlaps.length ? overlaps.join("; ") : `${holds.length} holds checked, none overlapped`}`,
);
console.log(
  `  ${ok(handedOver && handoverMs < DEFAULTS.reportTtlMs)} drain: ${victim?.name}'s ${moved.length} partitions had new consumers ` +
    `${handoverMs} ms after its SIGTERM (a crashed worker's would wait for reportTtlMs, ${DEFAULTS.reportTtlMs} ms)`,
);
console.log(`  ${ok(!leftovers.length)} nothing leaked: ${leftovers.length ? leftovers.join(", ") : "no lock or liveness record left in Redis"}`);
console.log("");
if (failures.length) {
  console.log(`FAILED (${failures.length}):`);
  for (const f of failures) console.log(`  - ${f}`);
} else {
  console.log(`OK in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
}
process.exitCode = failures.length ? 1 : 0;
