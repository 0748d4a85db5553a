/*
 * The liveness thread: builds its own Redis client (a thread cannot share the
 * main thread's socket) and writes this process's liveness record every
 * reportWriteMs, untouched by whatever blocks the main thread. An entry of
 * its own (dist/liveness-worker.js), so it composes the Node adapter with the
 * ioredis one, as the Node entry does.
 */
import { parentPort, workerData } from "node:worker_threads";
import { DatabaseLoadError, isDatabaseLoadError } from "../../src/errors";
import { RedisDatabase } from "../ioredis/redis-database";
import { type FromLivenessWorker, type LivenessWorkerData, serializeError } from "../shared/liveness-protocol";
import { startLivenessSession } from "../shared/liveness-session";
import { hrtimeNs } from "./hrtime";
import { loadDatabase } from "./load-database";

const post = (message: FromLivenessWorker) => parentPort!.postMessage(message);
const settings = workerData as LivenessWorkerData;

/**
 * A database module that the main thread loads can still fail here: this
 * thread inherits only the loaders on Node's command line, not a loader or
 * transform registered in code. Says so, and what to do.
 */
function explainImportFailure(error: unknown): unknown {
  if (!("reference" in settings.source) || !isDatabaseLoadError(error) || error.cause === undefined) return error;
  return new DatabaseLoadError(
    `${error.message} (in pulselock's liveness thread, which loads the module again with only the loaders on ` +
      "Node's command line: a loader or transform registered in code, such as jest's or tsx's register(), does not " +
      "reach it; point moduleName at compiled JavaScript, start Node with the loader on its command line " +
      "(`tsx app.ts`, `node --import tsx app.ts`), or pass database as a RedisDatabase instance)",
    { cause: error },
  );
}

startLivenessSession(settings, { loadDatabase, RedisDatabase }, () => Number(hrtimeNs()) / 1e6, post).then(
  (handle) => {
    parentPort!.on("message", handle);
    post({ type: "ready" });
  },
  (error) => post({ type: "fatal", error: serializeError(explainImportFailure(error)) }),
);
