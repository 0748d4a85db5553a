/*
 * The contract between a Deno main thread and its liveness Web Worker. The
 * shared-memory layout and the identity/stop messages are the Node thread's
 * (../node/reporter-protocol); what differs is the start: a Web Worker has no
 * workerData, and Deno gives every worker its own performance clock, so the
 * worker learns its offset to the main thread's clock in the init message.
 */
import type { ReporterWorkerData, ToReporter } from "../node/reporter-protocol";

/** The worker's name; code loaded inside it (the user's database module) can tell where it runs. */
export const REPORTER_WORKER_NAME = "pulselock-liveness-reporter";

export type DenoWorkerData = Omit<ReporterWorkerData, "__pulselockReporter">;

export type ToDenoReporter =
  | ToReporter
  /** `mainNow` is the main thread's performance.now() just before posting. */
  | { type: "init"; data: DenoWorkerData; mainNow: number };

export type FromDenoReporter =
  /** The worker's module is evaluated and listening; only now is the clock offset measured (no start-up delay in it). */
  | { type: "booted" }
  | import("../node/reporter-protocol").FromReporter;

/**
 * The main thread's clock as seen from the worker: its own performance.now()
 * plus the offset measured at init. A message arrives after it was sent, so
 * the offset can only err towards earlier send times, which moves the
 * self-fencing deadline earlier (safe), by the message latency at most.
 */
export function mainClock(mainNowAtInit: number, workerNowAtInit: number): () => number {
  const offset = mainNowAtInit - workerNowAtInit;
  return () => performance.now() + offset;
}
