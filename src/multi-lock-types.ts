/*
 * What the multi-key lock's public methods (acquireAllAndRun(), mutexAll())
 * take and return: the types a caller names.
 */
import type { LockData } from "./lock-data";
import type { LockStatus } from "./statuses";

/**
 * What acquireAllAndRun() and mutexAll() pass to your function: the same
 * heartbeat as a single lock's, for the whole set. A heartbeat extends and
 * rechecks every key of the set; losing any one of them loses the set: the
 * heartbeat throws that key's LockError, and the signal aborts with it.
 */
export interface MultiHeartbeat {
  /** One heartbeat for the whole set: free between intervals, and the point where a lost key stops the job. */
  (): Promise<void>;
  /** The same as calling the heartbeat itself. */
  heartbeat(): Promise<void>;
  /** Sleeps `ms` while heartbeating; rejects as soon as any key of the set is lost. */
  delay(ms: number): Promise<void>;
  /** Aborts when any key of the set is lost (its LockError is the reason) or the process drains; pass it to fetch() and friends. */
  readonly signal: AbortSignal;
  /**
   * Each key's current record, in the order the keys were given: its ownerHash
   * and its own fencingToken (strictly increasing per key, as for a single lock).
   */
  readonly lockData: ReadonlyMap<string, LockData>;
}

/**
 * What acquireAllAndRun() returns: `SUCCESS` with what `fn` returned (every key
 * is already released again), or `SOMEONE_ELSE_HOLDS_LOCK` with one key of the
 * set that a live process holds and its record (`fn` did not run, and no key
 * of the set is held). A key lost during the run is not a result: the call
 * rejects with that key's LockError.
 */
export type MultiRunResult<T> =
  | { status: LockStatus.SUCCESS; result: T; key?: never; lockData?: never }
  | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; key: string; lockData: LockData; result?: never };
