/*
 * The contract between a Deno main thread and its liveness Web Worker. The
 * shared-memory layout and the clock/identity/stop messages are those of
 * every liveness thread (../shared/liveness-protocol); what differs is the
 * start: a Web Worker has no workerData, so its settings come in an init message.
 */
import type { LIVENESS_MARK, LivenessWorkerData, ToLivenessWorker } from "../shared/liveness-protocol";

/** The worker's name; code loaded inside it (the user's database module) can tell where it runs. */
export const LIVENESS_WORKER_NAME = "pulselock-liveness";

export type DenoWorkerData = Omit<LivenessWorkerData, typeof LIVENESS_MARK>;

export type ToDenoLivenessWorker = ToLivenessWorker | { type: "init"; data: DenoWorkerData };
