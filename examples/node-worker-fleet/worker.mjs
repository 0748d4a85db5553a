// @ts-check
// One worker of a fleet that shares a set of partitions (queues, shards,
// tenants): each partition has exactly one consumer fleet-wide, held with
// acquireAndRun() for as long as the worker lives. On SIGTERM the worker
// drains: Heartbeater.setDraining() makes every consumer's heartbeat throw
// DrainingSignal, each consumer stops at its next checkpoint and releases its
// partition, and the rest of the fleet takes the partitions over at once,
// instead of after reportTtlMs as for a crashed worker.
//
//   REDIS_URL=redis://127.0.0.1:6379 FLEET_PARTITIONS='["p0","p1"]' node examples/node-worker-fleet/worker.mjs
//   node examples/node-worker-fleet/main.mjs     (3 workers, a rolling restart, checked)
import { hostname } from "node:os";
import { Heartbeater, Locker, LockStatus, isDrainingSignal } from "pulselock";
import { redis } from "./db.mjs";

/** @type {string[]} */
const PARTITIONS = JSON.parse(process.env.FLEET_PARTITIONS ?? '["partition-0","partition-1","partition-2"]');
/** At most this many partitions per worker, so that a fleet spreads them out; leave room for a worker to leave. */
const MAX_OWNED = Number(process.env.FLEET_MAX_OWNED ?? PARTITIONS.length);
/** How often an idle worker looks for a partition without a consumer. */
const POLL_MS = Number(process.env.FLEET_POLL_MS ?? 200);
const NAME = process.env.FLEET_WORKER ?? `${hostname()}:${process.pid}`;

const locker = new Locker({ database: { moduleName: new URL("./db.mjs", import.meta.url).href, exportName: "db" } });
locker.errors.subscribe(({ type, error }) => report({ type: "warn", message: `${type}: ${error}` }));
process.once("SIGTERM", () => Heartbeater.setDraining("SIGTERM"));

/**
 * To the parent when forked by main.mjs, otherwise to the console.
 * @param {{ type: string } & Record<string, unknown>} event
 */
function report(event) {
  const stamped = { ...event, worker: NAME, t: Date.now() };
  if (process.send) process.send(stamped);
  else console.log(JSON.stringify(stamped));
}

/**
 * Consumes one partition until this worker drains or loses the lock.
 * @param {string} partition
 * @param {() => void} onOwned called once the partition is ours
 */
async function consume(partition, onOwned) {
  // When the consumer stopped working: before its release, so a successor may start the moment after.
  let stoppedAt = 0;
  try {
    const res = await locker.acquireAndRun(
      `consumer:${partition}`,
      async (heartbeat) => {
        report({ type: "owned", partition, token: heartbeat.lockData.fencingToken });
        onOwned();
        // Stands in for polling the partition and handling its messages; every
        // wait heartbeats, and throws DrainingSignal (or LockError) when it is time to stop.
        try {
          for (;;) await heartbeat.delay(POLL_MS);
        } finally {
          stoppedAt = Date.now();
        }
      },
      { trace: NAME },
    );
    if (res.status === LockStatus.SOMEONE_ELSE_HOLDS_LOCK) return;
  } catch (error) {
    // DrainingSignal: we stopped on purpose; anything else (LockError) is worth a line in the logs.
    report({ type: isDrainingSignal(error) ? "released" : "lost", partition, message: String(error), stoppedAt });
  }
}

/** Partitions this worker consumes now, each with its run (which settles when the consumer stops). */
/** @type {Map<string, Promise<void>>} */
const owned = new Map();

/**
 * Starts consuming `partition` if nobody else does: true once it is ours (the
 * run goes on in the background), false when another worker holds it.
 * @param {string} partition
 * @returns {Promise<boolean>}
 */
function tryConsume(partition) {
  return new Promise((resolve) => {
    const run = consume(partition, () => resolve(true)).finally(() => {
      owned.delete(partition);
      resolve(false);
    });
    owned.set(partition, run);
  });
}

while (Heartbeater.drainingReason === null) {
  for (const partition of PARTITIONS) {
    if (owned.size >= MAX_OWNED || Heartbeater.drainingReason !== null) break;
    if (!owned.has(partition)) await tryConsume(partition);
  }
  await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}
await Promise.all(owned.values());
// Deletes the liveness record and stops the liveness thread; nothing is held any more.
await locker.terminate();
await redis.quit();
report({ type: "stopped" });
if (process.connected) process.disconnect(); // an open IPC channel would keep this process alive
