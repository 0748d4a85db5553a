/*
 * What the Locker's public methods take and return: the types a caller names.
 * They live apart from the Locker so that the modules behind it can use them
 * without importing the Locker itself.
 */
import type { LockData } from "./lock-data";
import type { LockStatus, OwnerHashStatus } from "./statuses";

/** Extends an acquired lock and reports whether the caller still owns it. */
export type Extend = () => Promise<ExtendResult>;

/**
 * What an extension found: `SUCCESS` with the rewritten record (the caller
 * still owns the lock and its TTL starts again), `NO_KEY` (the lock expired or
 * was deleted) or `SOMEONE_ELSE_HOLDS_LOCK` with the new holder's record. Both
 * failures mean the caller lost the lock and must stop.
 */
export type ExtendResult =
  | { status: LockStatus.SUCCESS; lockData: LockData }
  | { status: LockStatus.NO_KEY; lockData: null }
  | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; lockData: LockData };

/**
 * What acquire() found: `SUCCESS` with the new record and an `extend` function
 * (the caller now owns the lock and must extend it and release it), or
 * `SOMEONE_ELSE_HOLDS_LOCK` with the live holder's record. Both outcomes are
 * AsyncDisposable, so `await using lock = await locker.acquire(key)` always
 * compiles; only a held lock is released.
 */
export type AcquireResult =
  | ({ status: LockStatus.SUCCESS; lockData: LockData; extend: Extend } & AsyncDisposable)
  | ({ status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; lockData: LockData; extend?: never } & AsyncDisposable);

/**
 * What release() found: `SUCCESS` (the lock was ours and is now free), `NO_KEY`
 * (it had already expired or been released) or `SOMEONE_ELSE_HOLDS_LOCK` with
 * the holder that took it over (it was not ours any more, so it was left alone).
 */
export type ReleaseResult =
  | { status: LockStatus.SUCCESS; lockData: null }
  | { status: LockStatus.NO_KEY; lockData: null }
  | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; lockData: LockData };

/**
 * What acquireAndRun() returns: `SUCCESS` with what `fn` returned (the lock is
 * already released again), or `SOMEONE_ELSE_HOLDS_LOCK` with the live holder's
 * record (`fn` did not run). A lock lost during the run is not a result: it
 * rejects with the LockError, because the job may have overlapped with another
 * owner.
 */
export type RunResult<T> =
  { status: LockStatus.SUCCESS; result: T; lockData?: never } | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; lockData: LockData; result?: never };

/**
 * What readOwnerHashStatus() found for one owner hash: its {@link OwnerHashStatus},
 * the key's current record (null when there is none or the hash is malformed)
 * and the key parsed from the hash (null when malformed). A snapshot for
 * debugging, stale as soon as it returns: do not base decisions on it.
 */
export type OwnerHashStatusResult =
  | { status: OwnerHashStatus.RUNNING; lockData: LockData; key: string }
  | { status: OwnerHashStatus.SOMEONE_ELSE_HOLDS_LOCK; lockData: LockData; key: string }
  | { status: OwnerHashStatus.NO_KEY; lockData: null; key: string }
  | { status: OwnerHashStatus.NO_RUNNING_PROCESS; lockData: LockData; key: string }
  | { status: OwnerHashStatus.MALFORMED_OWNER_HASH; lockData: null; key: null };

/** The options form of acquireAndRun()'s third argument. */
export interface RunOptions {
  /** Kept in the lock record and the owner hash, for debugging. */
  trace?: string;
  /**
   * This call's own waitUntil, for runtimes where it is per request (Cloudflare
   * Workers' `ctx.waitUntil` with a Locker at module scope): it keeps this
   * request alive until the run, the release and the liveness writes it owes are
   * done. It replaces the Locker's `waitUntil` for this call.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** Keeps a runtime (a Worker isolate, a serverless function) alive until the promise settles. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** The options form of mutex(): waiting that a caller can also cancel. */
export interface MutexOptions {
  /** How long to wait for the lock before throwing MutexError. */
  timeoutMs: number;
  /** Stops waiting; mutex() then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Kept in the lock record and the owner hash, to tell in Redis who holds the lock. */
  trace?: string;
  /** {@inheritDoc RunOptions.waitUntil} */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * The first pause between two tries; it doubles (with jitter) up to
   * max(recheckDelayMs, 2000 ms), so that many waiters do not hammer Redis.
   * On ioredis a release wakes waiters at once anyway; polling is the fallback.
   * @defaultValue {@link DEFAULTS.mutexRecheckMs} (100)
   */
  recheckDelayMs?: number;
}

/**
 * A background failure that no call could throw: it reaches `locker.errors`
 * instead of becoming an unhandled rejection.
 */
export interface LockerErrorEvent {
  /** liveness: the liveness writer; locker: a transient Redis error; lost_lock: a run lost its lock. */
  type: "liveness" | "locker" | "lost_lock";
  /** What went wrong, usually a RedisCommandError, LivenessError or LockError. */
  error: unknown;
}
