import type { LockData } from "./lock-data";

/*
 * Every error has a literal `name`, set on the prototype so that it survives
 * minifiers, and a guard that checks that name instead of `instanceof`: an
 * error that crossed a worker thread, a vm context or two copies of this
 * package is still recognised.
 */

function describeHolder(lockData: LockData): string {
  const since = Date.now() - Date.parse(lockData.acquiredAt);
  return (
    `${lockData.ownerHash} (process ${lockData.processHash}, fencing token ` +
    `${lockData.fencingToken}) has held it since ${lockData.acquiredAt}` +
    (Number.isFinite(since) ? ` (${Math.max(0, since)} ms ago)` : "")
  );
}

/** Reasons a LockError gives when no one else took the lock over. */
export const LAPSED_REASON =
  "this process's liveness record lapsed (Redis unreachable, or the process was frozen), so others may take the lock";
export const OVERWRITTEN_REASON = "the lock record was overwritten with a value pulselock did not write";

function hasName(value: unknown, name: string): boolean {
  return typeof value === "object" && value !== null && (value as { name?: unknown }).name === name;
}

/**
 * The owner lost its lock: someone else took it over, it expired or was
 * deleted, or the process's liveness lapsed. The owner must stop ("seppuku").
 */
export class LockError extends Error {
  declare readonly name: "LockError";
  constructor(
    readonly key: string,
    readonly ownerHash: string,
    readonly lockData: LockData | null,
    /** Why the owner concluded that the lock is lost, when not taken over. */
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Lost the lock on key ${JSON.stringify(key)} held as ${ownerHash}: ` +
        (lockData
          ? `someone else took it over: ${describeHolder(lockData)}`
          : (reason ?? "the lock record is gone (expired or deleted)")) +
        "; stop working on it",
      options,
    );
  }
}
Object.defineProperty(LockError.prototype, "name", { value: "LockError" });

/** mutex() could not get the lock within its timeout. */
export class MutexError extends Error {
  declare readonly name: "MutexError";
  constructor(
    readonly key: string,
    readonly lockData: LockData | null,
    readonly timeoutMs?: number,
  ) {
    super(
      `Timed out${timeoutMs === undefined ? "" : ` after ${timeoutMs} ms`} waiting for the lock on key ` +
        `${JSON.stringify(key)}` +
        (lockData ? `: ${describeHolder(lockData)}` : ""),
    );
  }
}
Object.defineProperty(MutexError.prototype, "name", { value: "MutexError" });

/** The process is draining (Heartbeater.setDraining()): finish the job soon. */
export class DrainingSignal extends Error {
  declare readonly name: "DrainingSignal";
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`Stopped work on key ${JSON.stringify(key)} because the process is draining: ${reason}`);
  }
}
Object.defineProperty(DrainingSignal.prototype, "name", { value: "DrainingSignal" });

/**
 * A lock or liveness key holds a value that pulselock did not write (someone
 * overwrote it). pulselock neither takes nor deletes such a key.
 */
export class CorruptRecordError extends Error {
  declare readonly name: "CorruptRecordError";
  constructor(
    readonly redisKey: string,
    readonly value: unknown,
  ) {
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 80)) : String(value);
    super(
      `Redis key ${JSON.stringify(redisKey)} holds ${shown}, which is not a pulselock record; ` +
        "something else wrote it. Delete the key (or stop the other writer) to use this lock name again",
    );
  }
}
Object.defineProperty(CorruptRecordError.prototype, "name", { value: "CorruptRecordError" });

/**
 * Redis refused or failed a command. `code` is Redis's error code (WRONGTYPE,
 * OOM, READONLY, NOSCRIPT, …) or a connection error code; `transient` says
 * whether a retry may succeed.
 */
export class RedisCommandError extends Error {
  declare readonly name: "RedisCommandError";
  constructor(
    readonly operation: string,
    readonly code: string,
    readonly transient: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Redis failed ${operation}: ${message}`, options);
  }
}
Object.defineProperty(RedisCommandError.prototype, "name", { value: "RedisCommandError" });

/**
 * The liveness reporter could not start or could not write its first record
 * in time, or the database reference given to the Locker is unusable.
 */
export class ReporterError extends Error {
  declare readonly name: "ReporterError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
Object.defineProperty(ReporterError.prototype, "name", { value: "ReporterError" });

export const isLockError = (e: unknown): e is LockError => hasName(e, "LockError");
export const isMutexError = (e: unknown): e is MutexError => hasName(e, "MutexError");
export const isDrainingSignal = (e: unknown): e is DrainingSignal => hasName(e, "DrainingSignal");
export const isCorruptRecordError = (e: unknown): e is CorruptRecordError => hasName(e, "CorruptRecordError");
export const isRedisCommandError = (e: unknown): e is RedisCommandError => hasName(e, "RedisCommandError");
export const isReporterError = (e: unknown): e is ReporterError => hasName(e, "ReporterError");
