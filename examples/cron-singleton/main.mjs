// @ts-check
// A cron singleton, checked: INSTANCES processes each run the same schedule
// (instance.mjs), and every tick's job must run exactly once fleet-wide. Midway,
// the instance running a tick's job is SIGKILLed; a later sweep of another
// instance takes that tick over once the dead instance's liveness record has
// expired, and runs it again to completion.
//
//   node examples/cron-singleton/main.mjs                    (spawns its own redis-server)
//   REDIS_URL=redis://host:port node examples/cron-singleton/main.mjs
//   CRON_INTERVAL_MS=2000 CRON_TICKS=10 CRON_KILL=0 node examples/cron-singleton/main.mjs
//
// Exits 0 when every tick completed exactly once, no tick ran on two live
// instances at once, the killed run was redone by another instance after the
// liveness TTL, fencing tokens grew, and no lock or liveness record was left.
import { randomBytes } from "node:crypto";
import { exampleRedis, takeKeys } from "../support/example-redis.mjs";
import { forkMember } from "../support/fork-member.mjs";
import { nextTickAfter } from "./schedule.mjs";

const INSTANCES = Number(process.env.CRON_INSTANCES ?? 4);
const INTERVAL_MS = Number(process.env.CRON_INTERVAL_MS ?? 1000);
const TICKS = Number(process.env.CRON_TICKS ?? 8);
const JOB_MS = Number(process.env.CRON_JOB_MS ?? Math.round(INTERVAL_MS * 0.8));
const CATCH_UP = Number(process.env.CRON_CATCH_UP ?? 4);
const KILL = process.env.CRON_KILL !== "0";
/** The tick (0-based) whose running job is SIGKILLed. */
const KILL_TICK = 1;
/** Short liveness timings so that a dead instance's tick is taken over after about 1.5 s, not 10 s. */
const TIMINGS = { reportWriteMs: 250, reportTtlMs: 1500, lockRecheckMs: 250 };
/** Time for the instances to start before the first tick. */
const STARTUP_MS = 3000;
const DEADLINE_MS = STARTUP_MS + (TICKS + 2) * INTERVAL_MS + JOB_MS + 20_000;

/**
 * @typedef {{ instance: string, token: number, start: number, end: number | null, outcome: "running" | "completed" | "lost" | "killed" }} Run
 *   One instance's run of one tick, as that instance reported it.
 * @typedef {{ name: string, child: import("node:child_process").ChildProcess, killed: boolean,
 *   exit: { code: number | null, signal: string | null } | null, exited: Promise<{ code: number | null, signal: string | null }> }} Instance
 * @typedef {{ instance: string, t: number } & (
 *   | { type: "started" | "completed", tick: string, token: number }
 *   | { type: "lost", tick: string, message: string }
 *   | { type: "skipped", tick: string, why: "held" | "done" }
 *   | { type: "warn", kind?: string, tick?: string, message: string }
 *   | { type: "stopped" })} InstanceEvent
 *   What an instance reports (instance.mjs, report()).
 * @typedef {{ instance: string, tick: string, at: number }} Kill
 */

const t0 = Date.now();
/** @type {string[]} */
const failures = [];
const stamp = (/** @type {number} */ t) => `+${((t - t0) / 1000).toFixed(2)}s`.padStart(8);
const secs = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(2)} s`;
const ok = (/** @type {boolean} */ cond) => (cond ? "✔" : "✖");

const redis = await exampleRedis();
const redisUrl = redis.url;
const prefix = `cron-example:${randomBytes(4).toString("hex")}:`;
const firstTick = nextTickAfter(Date.now() + STARTUP_MS, INTERVAL_MS);
const ticks = Array.from({ length: TICKS }, (_, i) => new Date(firstTick + i * INTERVAL_MS).toISOString());

console.log(
  `cron singleton: ${INSTANCES} instances, one job every ${INTERVAL_MS} ms (${JOB_MS} ms of work), ${TICKS} ticks; ` +
    `${KILL ? `the instance running tick ${KILL_TICK + 1} is SIGKILLed` : "no kill"}`,
);
console.log(`redis ${redisUrl}${redis.spawned ? " (spawned for this run)" : ""}, key prefix "${prefix}"\n`);

// ---------------------------------------------------------------- fleet

/** @type {Map<string, Run[]>} tick → its runs */
const runs = new Map(ticks.map((tick) => [tick, /** @type {Run[]} */ ([])]));
let skips = 0;
/** @type {Kill | null} set by onEvent() */
let kill = null;
/** @type {Instance[]} */
const instances = [];
for (let i = 0; i < INSTANCES; i++) {
  const name = `instance-${i}`;
  const env = {
    REDIS_URL: redisUrl,
    CRON_PREFIX: prefix,
    CRON_INSTANCE: name,
    CRON_INTERVAL_MS: String(INTERVAL_MS),
    CRON_JOB_MS: String(JOB_MS),
    CRON_CATCH_UP: String(CATCH_UP),
    CRON_TICKS: String(TICKS),
    CRON_FIRST_TICK_AT: String(firstTick),
    CRON_TIMINGS: JSON.stringify(TIMINGS),
  };
  const member = forkMember(new URL("./instance.mjs", import.meta.url), env, (event) => onEvent(entry, /** @type {InstanceEvent} */ (event)));
  /** @type {Instance} */
  const entry = { name, killed: false, exit: null, ...member };
  void entry.exited.then((exit) => (entry.exit = exit));
  instances.push(entry);
}

/**
 * The run of `tick` that `instance` has not finished yet.
 * @param {string} tick
 * @param {string} instance
 */
function runOf(tick, instance) {
  return runs.get(tick)?.findLast((r) => r.instance === instance && r.end === null);
}

/**
 * @param {Instance} entry
 * @param {InstanceEvent} e
 */
function onEvent(entry, e) {
  if (entry.killed) return; // nothing a dead instance "says" after its death counts
  const label = `${stamp(e.t)}  ${e.instance.padEnd(11)}`;
  switch (e.type) {
    case "started": {
      const tickNo = ticks.indexOf(e.tick) + 1;
      const list = runs.get(e.tick);
      if (!list) return void failures.push(`${e.instance} ran a tick outside the schedule: ${e.tick}`);
      const redo = list.some((r) => r.outcome === "killed");
      list.push({ instance: e.instance, token: e.token, start: e.t, end: null, outcome: "running" });
      console.log(`${label} ${redo ? "took over" : "started  "} tick ${tickNo} (${e.tick}), fencing token ${e.token}`);
      if (KILL && !kill && tickNo === KILL_TICK + 1) {
        const at = Date.now();
        kill = { instance: e.instance, tick: e.tick, at };
        entry.killed = true;
        entry.child.kill("SIGKILL");
        // Every run of the victim ends here (a late instance may be catching up on earlier ticks too).
        for (const list of runs.values()) {
          for (const run of list) if (run.instance === e.instance && run.end === null) Object.assign(run, { end: at, outcome: "killed" });
        }
        console.log(`${stamp(at)}  ✖ SIGKILL ${e.instance} while it runs tick ${tickNo}; its locks stay until its liveness record expires`);
      }
      break;
    }
    case "completed":
    case "lost": {
      const run = runOf(e.tick, e.instance);
      if (run) Object.assign(run, { end: e.t, outcome: e.type });
      const tickNo = ticks.indexOf(e.tick) + 1;
      console.log(`${label} ${e.type === "completed" ? "completed" : "LOST LOCK"} tick ${tickNo}${e.type === "lost" ? `: ${e.message}` : ""}`);
      break;
    }
    case "skipped":
      skips++;
      break;
    case "warn":
      console.log(`${label} warning: ${e.kind ?? ""} ${e.message}`);
      break;
  }
}

const deadline = new Promise((resolve) => setTimeout(resolve, DEADLINE_MS, "deadline").unref());
const allExited = Promise.all(instances.map((i) => i.exited)).then(() => "exited");
if ((await Promise.race([allExited, deadline])) === "deadline") {
  failures.push(`the instances did not finish within ${secs(DEADLINE_MS)}`);
  for (const i of instances) if (!i.exit) i.child.kill("SIGKILL");
  await allExited;
}
for (const i of instances) {
  if (!i.killed && i.exit?.code !== 0) failures.push(`${i.name} exited with code ${i.exit?.code}, signal ${i.exit?.signal}`);
}

// ---------------------------------------------------------------- redis

// What is left under this run's prefix: the done markers, and (there must be none) lock or liveness records.
const left = await takeKeys(redisUrl, prefix).catch((error) => {
  failures.push(`could not inspect Redis: ${error.message}`);
  return new Map();
});
const markers = ticks.map((tick) => left.get(`${prefix}done:send-digest:${tick}`) ?? null);
const leftovers = [...left.keys()].filter((k) => !k.startsWith(`${prefix}done:`));
await redis.close();

// ---------------------------------------------------------------- summary

console.log("\nSummary");
/** Runs per tick, in the schedule's order. */
const byTick = ticks.map((tick, i) => ({ tick, no: i + 1, list: runs.get(tick) ?? [], marker: markers[i] ?? null }));
const notOnce = [];
for (const { tick, no, list, marker } of byTick) {
  const completed = list.filter((r) => r.outcome === "completed");
  const killed = list.filter((r) => r.outcome === "killed").map((r) => `killed on ${r.instance}`);
  const by = completed.map((r) => r.instance).join(", ") || "nobody";
  console.log(`  tick ${String(no).padStart(2)} ${tick}: completed ${completed.length}× by ${by}${killed.length ? ` (${killed.join(", ")})` : ""}`);
  if (completed.length !== 1 || marker === null) {
    notOnce.push(tick);
    failures.push(`tick ${no} completed ${completed.length} times (done marker ${marker === null ? "missing" : "present"})`);
  }
}
console.log(`  ${ok(!notOnce.length)} exactly once: ${TICKS - notOnce.length}/${TICKS} ticks completed once fleet-wide`);

/** @type {string[]} */
const overlapping = [];
/** @type {string[]} */
const regressions = [];
for (const { tick, list } of byTick) {
  const sorted = [...list].sort((a, b) => a.start - b.start);
  sorted.forEach((b, i) => {
    const a = sorted[i - 1];
    if (!a) return;
    if (a.end === null || b.start < a.end) overlapping.push(`${tick}: ${a.instance} and ${b.instance}`);
    if (!(b.token > a.token)) regressions.push(`${tick}: token ${b.token} after ${a.token}`);
  });
}
failures.push(...overlapping.map((o) => `a tick ran on two live instances at once: ${o}`));
failures.push(...regressions.map((r) => `fencing token did not grow: ${r}`));
console.log(`  ${ok(!overlapping.length)} exclusivity: ${overlapping.length ? overlapping.join("; ") : "no tick ever ran on two live instances at once"}`);
console.log(`  ${ok(!regressions.length)} fencing tokens: ${regressions.length ? regressions.join("; ") : "each rerun of a tick got a larger token"}`);

if (KILL) {
  // The dead instance's record expires reportTtlMs after its last write, sent at most reportWriteMs before the kill.
  const earliest = TIMINGS.reportTtlMs - TIMINGS.reportWriteMs - 100;
  // Assigned in a callback, which type narrowing does not see; a const for the closures below.
  const killed = /** @type {Kill | null} */ (kill);
  const redo = killed && (runs.get(killed.tick) ?? []).find((r) => r.instance !== killed.instance && r.start > killed.at);
  const waited = killed && redo ? redo.start - killed.at : NaN;
  const takeoverOk = Boolean(redo) && waited >= earliest && redo?.outcome === "completed";
  if (!killed) failures.push(`no instance was running tick ${KILL_TICK + 1} to be killed`);
  else if (!redo) failures.push(`nobody took over tick ${KILL_TICK + 1} after ${killed.instance} was killed`);
  else if (waited < earliest) failures.push(`tick ${KILL_TICK + 1} was taken over ${secs(waited)} after the kill, before the liveness record could expire`);
  else if (redo.outcome !== "completed") failures.push(`the takeover of tick ${KILL_TICK + 1} did not complete (${redo.outcome})`);
  console.log(
    `  ${ok(takeoverOk)} takeover: ${
      killed && redo
        ? `${redo.instance} redid tick ${KILL_TICK + 1} ${secs(waited)} after ${killed.instance} was SIGKILLed (liveness TTL ${secs(TIMINGS.reportTtlMs)})`
        : "none"
    }`,
  );
}

if (leftovers.length) failures.push(`lock or liveness records left in Redis: ${leftovers.join(", ")}`);
console.log(`  ${ok(!leftovers.length)} nothing leaked: ${leftovers.length ? leftovers.join(", ") : "no lock or liveness record left in Redis"}`);
if (skips === 0) failures.push("no instance ever skipped a tick: the instances did not contend");
console.log(`  ${ok(skips > 0)} contention: ${skips} attempts skipped a tick that another instance held or had finished`);

console.log("");
if (failures.length) {
  console.log(`FAILED (${failures.length}):`);
  for (const f of failures) console.log(`  - ${f}`);
} else {
  console.log(`OK in ${secs(Date.now() - t0)}`);
}
process.exitCode = failures.length ? 1 : 0;
