/*
 * The Deno platform: liveness in a Web Worker, database references loaded
 * from modules (absolute paths, file: URLs, package names), and pub/sub
 * wake-ups for mutex() waiters (ioredis runs on Deno through npm:).
 */
import type { Platform } from "../../src/liveness";
import { PubSubWakeups } from "../shared/release-wakeups";
import { loadDatabaseWithin } from "./load-database";
import { WebWorkerLiveness } from "./web-worker-liveness";
import { LIVENESS_WORKER_NAME } from "./worker-protocol";

/**
 * What the Deno entry's Locker runs on: liveness from a Web Worker (so a
 * blocked event loop does not stop it), database references loaded by
 * import(), and pub/sub wake-ups for mutex() with ioredis. Exported for code
 * that builds a core Locker with an explicit platform.
 */
export const denoPlatform: Platform = {
  name: "deno",
  createLiveness: (params) => new WebWorkerLiveness(params),
  loadDatabase: loadDatabaseWithin,
  releaseWakeups: (db, onError) => new PubSubWakeups(db, onError),
};

/**
 * True inside pulselock's liveness worker. The worker imports the module
 * named by the database reference, so code in that module runs there too;
 * guard side effects with this (Locker methods called there never settle).
 */
export function isLivenessThread(): boolean {
  return (globalThis as { name?: unknown }).name === LIVENESS_WORKER_NAME;
}
