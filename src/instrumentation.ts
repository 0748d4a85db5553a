import { isLockError, type LockError } from "./errors";
import type { Heartbeat } from "./heartbeater";
import type { LockData } from "./lock-data";
import type { RunResult } from "./results";
import { LockStatus } from "./statuses";

/*
 * The hook through which a Locker reports what it does to a metrics and
 * tracing backend (pulselock/opentelemetry implements it). The core knows only
 * this interface: without the `instrumentation` option nothing here runs, the
 * Locker takes no time stamps and allocates nothing for it, and no backend is
 * loaded. Every value is a small fixed set or a number, never a lock name, so
 * that metrics stay low-cardinality; only a run's span carries its key.
 */

/** How one acquisition attempt ended (acquire(), each try of acquireAndRun() and mutex()). */
export type AcquireOutcome = "acquired" | "held" | "error";

/** How an acquireAndRun() ended: its job ran to the end holding the lock, or never ran (held), or lost the lock, or failed. */
export type RunOutcome = "success" | "held" | "lost" | "error";

/** One acquireAndRun(), from its call until its release: a span, for a tracing backend. */
export interface RunSpan {
  /** Runs `fn` (the whole call: acquire, job, release) inside the span's context, so that spans made meanwhile become its children. */
  within<T>(fn: () => T): T;
  /** The lock was taken: its fencing token (and owner) describe the run. */
  acquired(lockData: LockData): void;
  /** The call settled; `error` is what it rejected with. */
  end(outcome: RunOutcome, error?: unknown): void;
}

/**
 * What a Locker reports, given as its `instrumentation` option (pulselock/opentelemetry's
 * `openTelemetry()` is one). One object may serve many Lockers. Calls are synchronous and must not throw.
 */
export interface Instrumentation {
  /**
   * A Locker starts reporting: `heldLocks` tells how many locks it holds right now (read when metrics are
   * collected, so holding a lock costs nothing). The returned function is called by terminate().
   */
  attach(heldLocks: () => number): () => void;
  /**
   * Whether acquisitions are worth timing now (false: nothing would record them, e.g. no SDK registered); asked at
   * the start of each acquisition, so it must be cheap. Left out: always.
   */
  timesAcquisitions?(): boolean;
  /** An acquisition attempt ended after `durationMs` (round trips, a takeover, a first liveness write included). */
  acquired(outcome: AcquireOutcome, durationMs: number): void;
  /** An acquisition took over the lock of a holder whose liveness record was gone. */
  tookOver(): void;
  /** A running job lost its lock: `error` is what its heartbeat throws (its `lockData` and `reason` say why). */
  lost(error: LockError): void;
  /** A liveness write ended after `durationMs`; `ok` false: it failed (reported from the main thread, wherever the write ran). */
  livenessWritten(durationMs: number, ok: boolean): void;
  /** An acquireAndRun() begins; undefined when nothing would record its span (no SDK, not sampled). */
  startRun(key: string, trace: string | undefined): RunSpan | undefined;
}

type Job<T> = (heartbeat: Heartbeat, ownerHash: string) => Promise<T> | T;

/**
 * An acquireAndRun() inside its span: `run` is the call itself, given the job to run (the caller's, wrapped to
 * note the fencing token once the lock is taken).
 */
export function tracedRun<T>(
  instrumentation: Instrumentation,
  key: string,
  trace: string | undefined,
  fn: Job<T>,
  run: (job: Job<T>) => Promise<RunResult<T>>,
): Promise<RunResult<T>> {
  if (typeof fn !== "function") return run(fn); // the runner's own TypeError
  const span = instrumentation.startRun(key, trace);
  // Nothing records the span: the run goes as it would without instrumentation.
  if (!span) return run(fn);
  const job: Job<T> = (heartbeat, ownerHash) => {
    span.acquired(heartbeat.lockData);
    return fn(heartbeat, ownerHash);
  };
  return span.within(() =>
    run(job).then(
      (res) => {
        span.end(res.status === LockStatus.SUCCESS ? "success" : "held");
        return res;
      },
      (error: unknown) => {
        span.end(isLockError(error) ? "lost" : "error", error);
        throw error;
      },
    ),
  );
}
