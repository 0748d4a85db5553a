/*
 * The liveness thread: builds its own Redis client (a thread cannot share the
 * main thread's socket) and writes this process's liveness record every
 * reportWriteMs, untouched by whatever blocks the main thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { startReporterSession } from "../shared/reporter-session";
import { type FromReporter, type ReporterWorkerData, hrtimeNs, serializeError } from "./reporter-protocol";

const post = (message: FromReporter) => parentPort!.postMessage(message);

startReporterSession(workerData as ReporterWorkerData, () => Number(hrtimeNs()) / 1e6, post).then(
  (handle) => {
    parentPort!.on("message", handle);
    post({ type: "ready" });
  },
  (error) => post({ type: "fatal", error: serializeError(error) }),
);
