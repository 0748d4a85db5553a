// pulselock demo: a fleet of worker processes shares one-off jobs through
// locks; one worker is SIGKILLed while it holds a job, and the fleet takes
// that job over as soon as the dead worker's liveness record expires.
//
//   npm run demo                      (spawns its own redis-server)
//   REDIS_URL=redis://host:port npm run demo
//
// Exits 0 when every job completed, the takeover happened, no key was ever
// held by two live workers at once, fencing tokens grew, and no lock record
// was left behind; 1 otherwise.
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { startRedis } from "../../test/support/redis-server.mjs";
import { takeKeys } from "../support/example-redis.mjs";

const WORKERS = 4;
/** One-off jobs: the lock key and how long the job works (a loop of heartbeat.delay() steps). */
const JOBS = [
  { key: "job-0", durationMs: 2500 },
  { key: "job-1", durationMs: 3500 },
  { key: "job-2", durationMs: 2800 },
  { key: "job-3", durationMs: 4500 },
  { key: "job-4", durationMs: 3000 },
  { key: "job-5", durationMs: 3200 },
  { key: "job-6", durationMs: 3400 },
  { key: "job-7", durationMs: 2500 },
];
/** Short liveness timings, so that the takeover of a dead worker's job takes about 1.5 s instead of 10 s. */
const TIMINGS = { reportWriteMs: 250, reportTtlMs: 1500, lockRecheckMs: 250 };
/** If spare capacity never shows up, kill anyway after this long. */
const KILL_FALLBACK_MS = 9000;
/** The whole demo gives up (and fails) after this long. */
const DEADLINE_MS = 55000;
/** How long stopped workers get to terminate their Lockers and exit. */
const STOP_GRACE_MS = 8000;

const now = () => performance.timeOrigin + performance.now();
const t0 = now();
const failures = [];

// ---------------------------------------------------------------- output

const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const stamp = (t) => `+${((t - t0) / 1000).toFixed(2)}s`.padStart(8);
function line(t, who, what, key = "", detail = "") {
  console.log(`${stamp(t)}  ${who.padEnd(9)} ${what.padEnd(10)} ${key.padEnd(6)} ${detail}`.trimEnd());
}
function banner(t, text) {
  console.log(`${stamp(t)}  ${text}`);
}
/** "job-3@1f2e3d4c5b6a….2#worker-1" → "1f2e3d4c….2" (the owner hash, shortened for the eye). */
function shortOwner(ownerHash) {
  const m = /@([0-9a-f]+)\.(\d+)/.exec(ownerHash ?? "");
  return m ? `${m[1].slice(0, 8)}….${m[2]}` : String(ownerHash);
}
/** The trace (worker name) that the worker put into its owner hash. */
const traceOf = (ownerHash) => /#(.*)$/.exec(ownerHash ?? "")?.[1] ?? "?";

// ---------------------------------------------------------------- state

/** name → { child, offset, alive, killed, idle, current, heldAny, finished: [], exit } */
const workers = new Map();
/** Every hold of a lock, as the holder saw it: [start, end] is inside the time it really held the lock. */
const holds = [];
/** key → names of the workers that completed it */
const completed = new Map();
/** The worker's hold of each ownerHash, to name holders in refusals. */
const holdByOwner = new Map();
let kill = null; // { worker, key, at, hold }
let takeover = null; // { worker, key, at, ms }
let refusals = 0;
const refusalsShown = new Set();
let warnings = 0;
let stopping = false;

// ---------------------------------------------------------------- redis

let server;
let redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  server = await startRedis();
  redisUrl = server.url;
}
const runId = randomBytes(4).toString("hex");
const keyPrefix = `demo:${runId}:`;

console.log(
  `pulselock demo: ${WORKERS} worker processes, ${JOBS.length} one-off jobs; liveness written every ` +
    `${TIMINGS.reportWriteMs} ms, expiring after ${TIMINGS.reportTtlMs} ms`,
);
console.log(`redis ${redisUrl}${server ? " (spawned for this demo)" : ""}, key prefix "${keyPrefix}"`);
console.log("");
console.log(`${"time".padStart(8)}  ${"worker".padEnd(9)} ${"event".padEnd(10)} ${"key".padEnd(6)} details`);

// ---------------------------------------------------------------- fleet

const workerPath = fileURLToPath(new URL("./worker.mjs", import.meta.url));
for (let i = 0; i < WORKERS; i++) {
  const name = `worker-${i}`;
  const child = fork(workerPath, [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      DEMO_RUN_ID: runId,
      DEMO_WORKER: name,
      DEMO_OFFSET: String(Math.round((i * JOBS.length) / WORKERS)),
      DEMO_JOBS: JSON.stringify(JOBS),
      DEMO_TIMINGS: JSON.stringify(TIMINGS),
    },
  });
  const w = { name, child, alive: true, killed: false, idle: false, current: null, heldAny: false, finished: [], exit: null };
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  w.exited = exited.then((exit) => {
    w.alive = false;
    w.exit = exit;
    if (!w.killed) {
      if (exit.code === 0) line(now(), name, "stopped", "", "locker terminated, liveness record deleted");
      else {
        line(now(), name, "exited", "", `unexpectedly: code ${exit.code}, signal ${exit.signal}`);
        failures.push(`${name} exited unexpectedly (code ${exit.code}, signal ${exit.signal})`);
      }
    }
    return exit;
  });
  child.on("message", (event) => onEvent(w, event));
  child.on("error", (error) => failures.push(`${name}: ${error.message}`));
  workers.set(name, w);
}

function onEvent(w, e) {
  if (w.killed && e.t > kill.at) return; // nothing a dead worker "says" after its death counts
  switch (e.type) {
    case "acquired": {
      const hold = { key: e.key, worker: w.name, token: e.token, ownerHash: e.ownerHash, start: e.at, end: null, outcome: "running" };
      holds.push(hold);
      holdByOwner.set(e.ownerHash, hold);
      w.current = { ...hold, durationMs: e.durationMs, hold };
      w.heldAny = true;
      w.idle = false;
      if (kill && !takeover && e.key === kill.key && w.name !== kill.worker) {
        takeover = { worker: w.name, key: e.key, at: e.at, ms: e.at - kill.at };
        line(
          e.at,
          w.name,
          "took over",
          e.key,
          `from dead ${kill.worker} after ${secs(takeover.ms)} (reportTtlMs ${secs(TIMINGS.reportTtlMs)}), token ${e.token}`,
        );
      } else {
        line(e.at, w.name, "acquired", e.key, `token ${e.token}  owner ${shortOwner(e.ownerHash)}  (${secs(e.durationMs)} of work)`);
      }
      break;
    }
    case "finished":
    case "skipped":
    case "lost": {
      const hold = w.current?.hold;
      if (hold && hold.key === e.key) {
        hold.end = e.workEndedAt;
        hold.outcome = e.type;
      }
      w.current = null;
      if (e.type === "finished") {
        w.finished.push(e.key);
        if (!completed.has(e.key)) completed.set(e.key, []);
        completed.get(e.key).push(w.name);
        line(e.t, w.name, "finished", e.key, `released  (${completed.size}/${JOBS.length} jobs done)`);
      } else if (e.type === "skipped") {
        line(e.t, w.name, "skipped", e.key, "already done by another worker; released");
      } else {
        line(e.t, w.name, "LOST LOCK", e.key, `job stopped (seppuku): ${e.message}`);
      }
      break;
    }
    case "refused": {
      refusals++;
      const holderHold = holdByOwner.get(e.holderOwnerHash);
      const holder = holderHold?.worker ?? traceOf(e.holderOwnerHash);
      const dead = kill && holder === kill.worker;
      // One line per (worker, key, holder): enough to see who waits on whom, without the polling noise.
      const id = `${w.name}|${e.key}|${e.holderOwnerHash}`;
      if (!refusalsShown.has(id)) {
        refusalsShown.add(id);
        line(
          e.t,
          w.name,
          "refused",
          e.key,
          dead ? `SOMEONE_ELSE_HOLDS_LOCK: dead ${holder}, whose liveness record has not expired yet` : `SOMEONE_ELSE_HOLDS_LOCK: held by ${holder}`,
        );
      }
      break;
    }
    case "idle":
      w.idle = true;
      if (e.todo.length === 0) break; // everything is done; the worker waits to be stopped
      line(e.t, w.name, "idle", "", `every unfinished job is held by someone else (${e.todo.join(", ")}); polling`);
      break;
    case "warn":
      warnings++;
      line(e.t, w.name, "warning", e.key ?? "", `${e.kind}: ${e.message}`);
      break;
  }
  maybeKill();
  maybeStop();
}

// ---------------------------------------------------------------- the kill

/**
 * Kill once every worker has held a job and the fleet has spare capacity (a
 * worker is idle, polling): then the takeover time shows the liveness TTL, not
 * a queue of busy workers. The victim is the holder with the most work left.
 */
function maybeKill() {
  if (kill || stopping) return;
  const list = [...workers.values()];
  const elapsed = now() - t0;
  if (!list.every((w) => w.heldAny)) return;
  if (!list.some((w) => w.idle && w.alive) && elapsed < KILL_FALLBACK_MS) return;
  const left = (w) => w.current.start + w.current.durationMs - now();
  const holders = list.filter((w) => w.alive && w.current && left(w) > (elapsed < KILL_FALLBACK_MS ? 600 : 0));
  if (holders.length === 0) return;
  const victim = holders.sort((a, b) => left(b) - left(a))[0];
  const at = now();
  kill = { worker: victim.name, key: victim.current.key, at, hold: victim.current.hold };
  victim.killed = true;
  victim.child.kill("SIGKILL");
  banner(
    at,
    `✖ SIGKILL ${victim.name} (holding ${kill.key}, token ${victim.current.token}, ${secs(left(victim))} of work left). ` +
      "Its lock stays in Redis (lockTtlMs 5 min) until its liveness record expires.",
  );
  kill.hold.end = at; // a dead process holds nothing it can act on
  kill.hold.outcome = "killed";
  victim.current = null;
}
const killTimer = setInterval(maybeKill, 100);

// ---------------------------------------------------------------- the end

let finish;
const finished = new Promise((resolve) => (finish = resolve));
function maybeStop() {
  if (stopping) return;
  if (completed.size === JOBS.length && kill) {
    stopping = true;
    finish("done");
  }
}
const deadline = setTimeout(() => finish("deadline"), DEADLINE_MS);
const onSignal = (signal) => finish(signal);
process.once("SIGINT", onSignal);
process.once("SIGTERM", onSignal);

const outcome = await finished;
stopping = true;
clearInterval(killTimer);
clearTimeout(deadline);
if (outcome !== "done") failures.push(outcome === "deadline" ? `did not finish within ${secs(DEADLINE_MS)}` : `interrupted by ${outcome}`);

banner(now(), `${outcome === "done" ? "all jobs done" : outcome}: stopping the fleet`);
for (const w of workers.values()) if (w.alive && w.child.connected) w.child.send({ type: "stop" });
const graceTimer = setTimeout(() => {
  for (const w of workers.values()) {
    if (w.alive) {
      failures.push(`${w.name} did not exit within ${secs(STOP_GRACE_MS)} of being stopped`);
      w.child.kill("SIGKILL");
    }
  }
}, STOP_GRACE_MS);
await Promise.all([...workers.values()].map((w) => w.exited));
clearTimeout(graceTimer);

// What is left in Redis under this run's prefix: the "done" markers only. The
// dead worker's liveness record expired, the live workers deleted theirs, and
// every lock record was released (or taken over and then released).
let leftovers = [];
try {
  const keys = [...(await takeKeys(redisUrl, keyPrefix)).keys()];
  leftovers = keys.filter((k) => !k.startsWith(`${keyPrefix}done:`));
} catch (error) {
  failures.push(`could not inspect Redis after the run: ${error.message}`);
}
await closeServer();

/**
 * startRedis() unrefs its redis-server child, so awaiting its exit alone would
 * leave Node with nothing to wait on (it would quit with code 13, "unsettled
 * top-level await"); a timer keeps the loop alive until the server is gone.
 */
async function closeServer() {
  if (!server) return;
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await server.close();
  } finally {
    clearInterval(keepAlive);
  }
}

// ---------------------------------------------------------------- summary

function groupByKey(list) {
  const map = new Map();
  for (const h of list) map.set(h.key, [...(map.get(h.key) ?? []), h]);
  return map;
}

/** Holds of one key that overlap in time. The killed worker's hold ends at its kill. */
function overlaps() {
  const found = [];
  const byKey = groupByKey(holds);
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i];
        const b = list[j];
        if (b.start < (a.end ?? Infinity)) {
          found.push(
            `${key}: ${a.worker} [${stamp(a.start).trim()} … ${a.end ? stamp(a.end).trim() : "never ended"}] and ${b.worker} from ${stamp(b.start).trim()}`,
          );
        }
      }
    }
  }
  return found;
}
function tokenRegressions() {
  const found = [];
  for (const [key, list] of groupByKey(holds)) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      if (!(list[i].token > list[i - 1].token)) found.push(`${key}: token ${list[i].token} after ${list[i - 1].token}`);
    }
  }
  return found;
}

const ok = (cond) => (cond ? "✔" : "✖");
console.log("");
console.log("Summary");
for (const w of workers.values()) {
  const killedHere = kill?.worker === w.name ? `, SIGKILLed while running ${kill.key}` : "";
  const list = w.finished.length ? ` (${w.finished.join(", ")})` : "";
  console.log(`  ${w.name}: ${w.finished.length} job${w.finished.length === 1 ? "" : "s"} run to completion${list}${killedHere}`);
}

const missing = JOBS.map((j) => j.key).filter((k) => !completed.has(k));
if (missing.length) failures.push(`jobs never completed: ${missing.join(", ")}`);
console.log(`  ${ok(!missing.length)} jobs completed: ${completed.size}/${JOBS.length}${missing.length ? ` (missing ${missing.join(", ")})` : ""}`);

// The dead worker's liveness record expires reportTtlMs after its last write, which it sent at most
// reportWriteMs before the kill: so the takeover comes between reportTtlMs - reportWriteMs and a little
// after reportTtlMs (the pollers' interval). Much sooner would mean a live-looking holder lost its lock.
const earliest = TIMINGS.reportTtlMs - TIMINGS.reportWriteMs - 100;
const latest = TIMINGS.reportTtlMs + 2500;
const takeoverOk = takeover !== null && takeover.ms >= earliest && takeover.ms <= latest;
if (!kill) failures.push("no worker was killed, so no takeover was shown");
else if (!takeover) failures.push(`nobody took over ${kill.key} after ${kill.worker} was killed`);
else if (takeover.ms < earliest) failures.push(`${kill.key} was taken ${secs(takeover.ms)} after the kill, before the liveness record could expire`);
else if (takeover.ms > latest) failures.push(`the takeover of ${kill.key} took ${secs(takeover.ms)}, far more than reportTtlMs`);
console.log(
  `  ${ok(takeoverOk)} takeover: ${
    takeover
      ? `${takeover.worker} took ${takeover.key} from dead ${kill.worker} ${secs(takeover.ms)} after the SIGKILL ` +
        `(liveness expires ${secs(TIMINGS.reportTtlMs)} after the last write, sent every ${TIMINGS.reportWriteMs} ms; ` +
        "the lock itself would have lived on for lockTtlMs, 5 min)"
      : "none"
  }`,
);

const overlapping = overlaps();
failures.push(...overlapping.map((o) => `two live holders at once: ${o}`));
console.log(
  `  ${ok(!overlapping.length)} exclusivity: ${holds.length} holds checked, ` +
    (overlapping.length ? `${overlapping.length} overlap(s):\n      ${overlapping.join("\n      ")}` : "no key was ever held by two live workers at once"),
);

const regressions = tokenRegressions();
failures.push(...regressions.map((r) => `fencing token did not grow: ${r}`));
console.log(`  ${ok(!regressions.length)} fencing tokens: ${regressions.length ? regressions.join("; ") : "strictly increasing for every key"}`);

const lockLeftovers = leftovers;
if (lockLeftovers.length) failures.push(`keys left in Redis: ${lockLeftovers.join(", ")}`);
console.log(
  `  ${ok(!lockLeftovers.length)} nothing leaked: ${lockLeftovers.length ? `left in Redis: ${lockLeftovers.join(", ")}` : "no lock or liveness record left in Redis"}`,
);
console.log(`    ${refusals} acquisitions refused with SOMEONE_ELSE_HOLDS_LOCK, ${warnings} background warning(s)`);

console.log("");
if (failures.length) {
  console.log(`FAILED (${failures.length}):`);
  for (const f of failures) console.log(`  - ${f}`);
} else {
  console.log(`OK in ${secs(now() - t0)}`);
}
process.exitCode = failures.length ? 1 : 0;
