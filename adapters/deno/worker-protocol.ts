/*
 * The contract between a Deno main thread and its liveness Web Worker. The
 * shared-memory layout and the clock/identity/stop messages are the Node
 * thread's (../node/reporter-protocol); what differs is the start: a Web
 * Worker has no workerData, so its settings come in an init message.
 */
import type { ReporterWorkerData, ToReporter } from "../node/reporter-protocol";

/** The worker's name; code loaded inside it (the user's database module) can tell where it runs. */
export const REPORTER_WORKER_NAME = "pulselock-liveness-reporter";

export type DenoWorkerData = Omit<ReporterWorkerData, "__pulselockReporter">;

export type ToDenoReporter =
  | ToReporter
  | { type: "init"; data: DenoWorkerData };
