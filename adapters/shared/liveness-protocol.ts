/*
 * The contract between the main thread and the liveness thread: what goes in
 * workerData, the messages both ways, and the layout of the shared memory
 * through which the main thread reads the newest write time synchronously
 * (messages queue up while the main thread is blocked; shared memory does not).
 */
import type { DatabaseModule } from "../../src/database";
import type { ClientRecipe } from "../../src/transport";

/** Marks workerData of a liveness thread, so that code loaded there knows where it runs. */
export const LIVENESS_MARK = "__pulselockLiveness";

export interface LivenessWorkerData {
  [LIVENESS_MARK]: true;
  shared: SharedArrayBuffer;
  source: { reference: DatabaseModule } | { recipe: ClientRecipe };
  reportWriteMs: number;
  reportTtlMs: number;
  data: string;
  /** Post each write's duration ("write-time"): the Locker has instrumentation. */
  reportWriteTimes?: boolean;
}

/** BigInt64 slots of the shared buffer. Write order in the thread: LAPSED before a new identity's SENT_AT, SENT_AT before GENERATION. */
export const Slot = { GENERATION: 0, SENT_AT_NS: 1, LAPSED: 2 } as const;
export const SHARED_SLOTS = 3;

export type ToLivenessWorker =
  /**
   * Sent once, right after "ready": the main thread's clock (its now()) just
   * before posting. Threads do not share a clock on every runtime (Bun's and
   * Deno's process.hrtime and performance.now() start with each thread), so
   * the liveness writer maps its own clock onto the main thread's with this offset.
   */
  { type: "clock"; mainNow: number } | { type: "identity"; processHash: string; generation: number } | { type: "stop" };

export type FromLivenessWorker =
  | { type: "ready" }
  | { type: "written"; generation: number }
  | { type: "lapsed"; generation: number }
  /** The first write of `generation` failed for good (LivenessLoopOptions.onRefused). */
  | { type: "refused"; generation: number; error: unknown }
  | { type: "error"; error: unknown }
  /** A write ended after `ms` (only with reportWriteTimes). */
  | { type: "write-time"; ms: number; ok: boolean }
  | { type: "fatal"; error: unknown }
  | { type: "stopped" };

/** Errors cross threads as plain objects that keep name, message and code. */
export function serializeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return error;
  // Own primitive fields (code, operation, transient, …) survive, and a few levels of causes (the client's error); functions do not.
  const fields = Object.entries(error).filter(([, v]) => v === null || (typeof v !== "object" && typeof v !== "function"));
  const cause = depth < 3 && error.cause instanceof Error ? { cause: serializeError(error.cause, depth + 1) } : {};
  return { ...Object.fromEntries(fields), name: error.name, message: error.message, stack: error.stack, ...cause };
}

/** The LAPSED value that retires every generation. */
export const ALL_GENERATIONS = 2n ** 62n;

/** Raises a shared slot to at least `value`; both threads may race on it. */
export function atomicMax(slots: BigInt64Array, slot: number, value: bigint): void {
  for (;;) {
    const current = Atomics.load(slots, slot);
    if (current >= value || Atomics.compareExchange(slots, slot, current, value) === current) return;
  }
}

/** Turns a serialized error back into an Error (name, message, stack and fields kept), so that String(e) and the guards work. */
export function deserializeError(value: unknown): unknown {
  if (typeof value !== "object" || value === null || typeof (value as { message?: unknown }).message !== "string") return value;
  const { message, stack, cause, ...fields } = value as { message: string; stack?: string; cause?: unknown };
  const options = cause === undefined ? undefined : { cause: deserializeError(cause) };
  return Object.assign(new Error(message, options), fields, stack === undefined ? {} : { stack });
}
