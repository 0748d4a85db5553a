/*
 * The Node and Bun platform: liveness in a worker thread, database
 * references loaded from modules, and pub/sub wake-ups for mutex() waiters.
 */
import { isMainThread, workerData } from "node:worker_threads";
import type { Platform } from "../../src/liveness";
import { LIVENESS_MARK } from "../shared/liveness-protocol";
import { PubSubWakeups } from "../shared/release-wakeups";
import { hrtimeFakedAtLoad } from "./hrtime";
import { loadDatabaseWithin } from "./load-database";
import { ThreadLiveness } from "./thread-liveness";

/**
 * What the Node entry's Locker runs on: liveness from a worker thread (so a
 * blocked event loop does not stop it), database references loaded by
 * import(), and pub/sub wake-ups for mutex(). Exported for code that builds a
 * core Locker with an explicit platform.
 */
export const nodePlatform: Platform = {
  name: "node",
  createLiveness: (params) => new ThreadLiveness(params),
  loadDatabase: loadDatabaseWithin,
  releaseWakeups: (db, onError) => new PubSubWakeups(db, onError),
  clockFakedAtLoad: hrtimeFakedAtLoad,
};

/**
 * True inside pulselock's liveness thread. The thread imports the module named
 * by the database reference, so code in that module runs there too; guard
 * side effects with this (Locker methods called there never settle, so a job
 * started at the module's top level does not run twice).
 */
export function isLivenessThread(): boolean {
  return !isMainThread && (workerData as Record<string, unknown> | null)?.[LIVENESS_MARK] === true;
}
