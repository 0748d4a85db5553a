// The demo's database module. Workers pass it to the Locker as a reference,
// { moduleName: <file: URL of this module>, exportName: "db" }, the way the
// seed README does: pulselock's liveness thread imports this same module to
// build its own Redis connection (a thread cannot share the main thread's
// socket). So this module must work in both places: no side effects besides
// creating the client.
//
// DEMO_RUN_ID makes the key prefix unique per run, so reruns (or two demos
// against one shared REDIS_URL) never see each other's keys.
import { Redis } from "ioredis";
import { RedisDatabase } from "pulselock";

const runId = process.env.DEMO_RUN_ID;
const url = process.env.REDIS_URL;
if (!runId || !url) {
  throw new Error("examples/demo/db.mjs: DEMO_RUN_ID and REDIS_URL must be set (run examples/demo/demo.mjs instead)");
}

export const keyPrefix = `demo:${runId}:`;

/** The worker's own client: pulselock's lock records, and the demo's "job done" markers. */
export const redis = new Redis(url, {
  keyPrefix,
  // Fail fast instead of queueing commands forever if Redis goes away.
  maxRetriesPerRequest: 3,
});

export const db = new RedisDatabase(redis);
