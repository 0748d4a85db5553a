// One process of the demo fleet. It competes with its peers for the job keys
// with locker.acquireAndRun() and reports every step to the parent over IPC.
//
// The jobs are one-off: a job records "done" in Redis while it still holds its
// lock, and workers skip done keys (checked before acquiring, and again inside
// the lock, which is the check that counts). A worker that finds every
// unfinished key held by someone else is idle and polls every POLL_MS, which is
// what lets the fleet take over a dead worker's key soon after its liveness
// record expires.
import { Locker, LockStatus, isLockError } from "pulselock";
import { redis } from "./db.mjs";

const name = process.env.DEMO_WORKER;
const offset = Number(process.env.DEMO_OFFSET ?? 0);
/** [{ key, durationMs }] */
const jobs = JSON.parse(process.env.DEMO_JOBS);
const timings = JSON.parse(process.env.DEMO_TIMINGS);
const POLL_MS = 250;
const DONE_TTL_S = 300;

/** Wall-clock ms with sub-ms precision; every process of the demo reads the same clock. */
const now = () => performance.timeOrigin + performance.now();
const send = (type, fields = {}) => {
  if (process.connected) process.send({ type, worker: name, t: now(), ...fields });
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const doneKey = (key) => `done:${key}`;

const locker = new Locker({
  // The seed-style reference: the liveness thread imports this module by URL and builds its own client.
  database: { moduleName: new URL("./db.mjs", import.meta.url).href, exportName: "db" },
  ...timings,
});
locker.errors.subscribe(({ type, error }) => {
  // Lost locks are reported where the run fails (below); everything else is background noise worth showing.
  if (type !== "lost_lock") send("warn", { kind: type, message: String(error?.message ?? error) });
});

let stopping = false;
process.on("message", (message) => {
  if (message?.type === "stop") stopping = true;
});
// If the parent goes away, do not linger.
process.on("disconnect", () => (stopping = true));

/** Tries one key. Returns "ran" when this worker held the lock (whatever happened then), "busy" or "done" otherwise. */
async function attempt({ key, durationMs }) {
  let workEndedAt;
  try {
    const res = await locker.acquireAndRun(
      key,
      async (heartbeat, ownerHash) => {
        const startedAt = now();
        const token = heartbeat.lockData.fencingToken;
        send("acquired", { key, token, ownerHash, durationMs, at: startedAt });
        // The check that counts: inside the lock, nobody else can be completing this key.
        if ((await redis.get(doneKey(key))) !== null) {
          workEndedAt = now();
          return "skipped";
        }
        try {
          // The job: a loop of small steps; heartbeat.delay() sleeps while heartbeating and
          // rejects with a LockError as soon as the lock is lost.
          const end = startedAt + durationMs;
          for (let left = end - now(); left > 0; left = end - now()) {
            await heartbeat.delay(Math.min(200, left));
          }
          await heartbeat(); // last ownership check before recording the result
          await redis.set(doneKey(key), `${name} token ${token}`, "EX", DONE_TTL_S);
          return "finished";
        } finally {
          // When the work stopped (finished, or seppuku): the end of this hold, for the parent's overlap check.
          workEndedAt = now();
        }
      },
      { trace: name },
    );
    if (res.status === LockStatus.SOMEONE_ELSE_HOLDS_LOCK) {
      send("refused", { key, holderOwnerHash: res.lockData.ownerHash, holderToken: res.lockData.fencingToken });
      return "busy";
    }
    send(res.result, { key, workEndedAt }); // "finished" or "skipped", sent after the lock was released
    return "ran";
  } catch (error) {
    if (isLockError(error)) {
      // Seppuku: the job stopped as soon as the heartbeat found out.
      send("lost", { key, workEndedAt: workEndedAt ?? now(), message: error.message });
      return "ran";
    }
    send("warn", { kind: "attempt", key, message: String(error?.message ?? error) });
    await sleep(POLL_MS);
    return "busy";
  }
}

async function main() {
  // Each worker starts its sweep at a different key, so the fleet spreads out at once.
  const order = jobs.map((_, i) => jobs[(i + offset) % jobs.length]);
  let idle = false;
  while (!stopping) {
    const done = await redis.mget(order.map((j) => doneKey(j.key)));
    const todo = order.filter((_, i) => done[i] === null);
    let ran = false;
    for (const job of todo) {
      if (stopping) break;
      if ((await attempt(job)) === "ran") {
        ran = true;
        break; // after a job, start the next sweep from this worker's own offset
      }
    }
    if (ran) {
      idle = false;
      continue;
    }
    if (!idle) send("idle", { todo: todo.map((j) => j.key) });
    idle = true;
    await sleep(POLL_MS);
  }
}

// A safety net: never outlive the demo by more than a few seconds after being told to stop.
const guard = () => setTimeout(() => process.exit(3), 10000).unref();

try {
  await main();
} catch (error) {
  send("warn", { kind: "worker", message: String(error?.stack ?? error) });
  process.exitCode = 1;
} finally {
  guard();
  // Deletes the liveness record, stops the liveness thread, and closes what the Locker opened.
  await locker.terminate();
  await redis.quit().catch(() => {});
  send("stopped");
  if (process.connected) process.disconnect();
}
