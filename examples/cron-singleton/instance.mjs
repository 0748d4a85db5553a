// @ts-check
// One instance of a service that runs the "send-digest" job on a schedule. Every
// instance of the fleet runs this same schedule; the lock makes each tick's job
// run on one instance only, and a "done" marker, written while the lock is
// still held, makes it run once: an instance whose clock or timer runs late
// finds the marker and skips a tick that another instance already finished.
//
//   REDIS_URL=redis://127.0.0.1:6379 node examples/cron-singleton/instance.mjs   (every minute, forever)
//   node examples/cron-singleton/main.mjs       (a fleet of 4 against a spawned redis-server, checked)
//
// Environment: CRON_INTERVAL_MS (default 60000), CRON_JOB_MS (how long the job
// works, default 2000), CRON_CATCH_UP (earlier ticks to retry, default 3),
// CRON_TICKS (stop after this many ticks; default: never), CRON_FIRST_TICK_AT
// (epoch ms of the first tick; default: the next aligned one), CRON_TIMINGS
// (JSON Locker timing options), CRON_INSTANCE (a name for logs and traces).
import { hostname } from "node:os";
import { Locker, LockStatus, isLockError } from "pulselock";
/** @typedef {import("pulselock").Heartbeat} Heartbeat */
import { redis } from "./db.mjs";
import { nextTickAfter, sleepUntil, ticksToTry } from "./schedule.mjs";

const INTERVAL_MS = Number(process.env.CRON_INTERVAL_MS ?? 60_000);
const JOB_MS = Number(process.env.CRON_JOB_MS ?? 2000);
const CATCH_UP = Number(process.env.CRON_CATCH_UP ?? 3);
const TICKS = Number(process.env.CRON_TICKS ?? Infinity);
const FIRST_TICK = Number(process.env.CRON_FIRST_TICK_AT ?? nextTickAfter(Date.now(), INTERVAL_MS));
const INSTANCE = process.env.CRON_INSTANCE ?? `${hostname()}:${process.pid}`;
/** A done marker must outlive every retry of its tick; a day is plenty for any catch-up window. */
const DONE_TTL_MS = Math.max(24 * 3600_000, (CATCH_UP + 2) * INTERVAL_MS);

const locker = new Locker({
  database: { moduleName: new URL("./db.mjs", import.meta.url).href, exportName: "db" },
  ...JSON.parse(process.env.CRON_TIMINGS ?? "{}"),
});
locker.errors.subscribe(({ type, error }) => report({ type: "warn", kind: type, message: String(error) }));

/**
 * To the parent when forked by main.mjs (which checks the run), otherwise to the console.
 * @param {{ type: string } & Record<string, unknown>} event
 */
function report(event) {
  const stamped = { ...event, instance: INSTANCE, t: Date.now() };
  if (process.send) process.send(stamped);
  else console.log(JSON.stringify(stamped));
}

/**
 * The job itself: stands in for real work (sending mail, rolling up a table) that heartbeats as it goes.
 * @param {Heartbeat} heartbeat
 */
async function sendDigest(heartbeat) {
  await heartbeat.delay(JOB_MS); // sleeps while heartbeating; rejects with a LockError if the lock is lost
}

/** The marker that a tick's job ran to completion (it holds the instance and the fencing token). */
const doneKeyOf = (/** @type {number} */ tickAt) => `done:send-digest:${new Date(tickAt).toISOString()}`;

/**
 * Runs one tick's job unless another instance holds it or already finished it.
 * @param {number} tickAt epoch ms of the tick
 */
async function tryTick(tickAt) {
  const tick = new Date(tickAt).toISOString();
  const doneKey = doneKeyOf(tickAt);
  try {
    const res = await locker.acquireAndRun(
      `send-digest:${tick}`, // the tick's scheduled time is part of the key: one lock per run, not per job
      async (heartbeat) => {
        // Checked inside the lock, so no other instance can be finishing this tick meanwhile.
        if ((await redis.exists(doneKey)) === 1) return "done";
        const token = heartbeat.lockData.fencingToken;
        report({ type: "started", tick, token });
        await sendDigest(heartbeat);
        await heartbeat(); // still ours? (throws LockError if not) Then record the run.
        await redis.set(doneKey, JSON.stringify({ instance: INSTANCE, token }), "PX", DONE_TTL_MS);
        report({ type: "completed", tick, token });
        return "ran";
      },
      { trace: INSTANCE },
    );
    if (res.status === LockStatus.SOMEONE_ELSE_HOLDS_LOCK) report({ type: "skipped", tick, why: "held" });
    else if (res.result === "done") report({ type: "skipped", tick, why: "done" });
  } catch (error) {
    // A lost lock means the job stopped (seppuku); an unfinished tick is retried by a later sweep.
    report({ type: isLockError(error) ? "lost" : "warn", tick, message: String(error) });
  }
}

/**
 * Ticks not marked done among this sweep's candidates: one MGET instead of a lock attempt per past tick.
 * @param {number[]} ticks
 */
async function unfinished(ticks) {
  if (ticks.length === 0) return [];
  const done = await redis.mget(ticks.map(doneKeyOf));
  return ticks.filter((_, i) => done[i] === null);
}

let stopping = false;
process.on("SIGTERM", () => (stopping = true));
process.on("disconnect", () => (stopping = true));

/** Ticks this instance is running now, so that a sweep does not contend with its own runs. */
/** @type {Map<number, Promise<void>>} */
const running = new Map();

try {
  for (let n = 0, tickAt = FIRST_TICK; n < TICKS && !stopping; n++, tickAt += INTERVAL_MS) {
    await sleepUntil(tickAt);
    const candidates = ticksToTry(tickAt, INTERVAL_MS, CATCH_UP, FIRST_TICK).filter((t) => !running.has(t));
    // Not awaited: a job longer than the interval must not delay the next tick.
    for (const t of await unfinished(candidates)) {
      running.set(
        t,
        tryTick(t).finally(() => running.delete(t)),
      );
    }
  }
  await Promise.all(running.values());
} finally {
  // Deletes this instance's liveness record (its locks are free at once) and stops the liveness thread.
  await locker.terminate();
  await redis.quit().catch(() => redis.disconnect());
  report({ type: "stopped" });
  if (process.connected) process.disconnect(); // an open IPC channel would keep this process alive
}
