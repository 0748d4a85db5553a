import type { LockData } from "./lock-data";

/*
 * Every error has a literal `name`, set on the prototype so that it survives
 * minifiers, and a guard that checks that name instead of `instanceof`: an
 * error that crossed a worker thread, a vm context or two copies of this
 * package is still recognised.
 */

/** Who holds a lock and since when, for messages (the owner hash names the process too). */
function describeHolder(lockData: LockData): string {
  return `${lockData.ownerHash} (fencing token ${lockData.fencingToken}) since ${lockData.acquiredAt}`;
}

/** Reasons a LockError gives when no one else took the lock over. */
export const LAPSED_REASON = "this process's liveness record lapsed";
export const OVERWRITTEN_REASON = "the lock record was overwritten by another writer";

/** An error's message, or whatever was thrown, as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hasName(value: unknown, name: string): boolean {
  return typeof value === "object" && value !== null && (value as { name?: unknown }).name === name;
}

/**
 * The owner lost its lock: someone else took it over, it expired or was
 * deleted, or the process's liveness lapsed. The owner must stop ("seppuku").
 */
export class LockError extends Error {
  /** Always "LockError", set on the prototype so that minifiers keep it: {@link isLockError} checks it instead of `instanceof`, which fails across threads, realms and package copies. */
  declare readonly name: "LockError";
  constructor(
    /** The lock name the job held. */
    readonly key: string,
    /** The owner hash under which this job held the lock, to match it with logs and readOwnerHashStatus(). */
    readonly ownerHash: string,
    /** The record of whoever holds the key now, or null when nobody does (it expired, was deleted, or liveness lapsed). */
    readonly lockData: LockData | null,
    /** Why the owner concluded that the lock is lost, when not taken over. */
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Lost the lock on ${JSON.stringify(key)} held as ${ownerHash}: ` +
        (lockData ? `taken over by ${describeHolder(lockData)}` : (reason ?? "the record expired or was deleted")),
      options,
    );
  }
}
Object.defineProperty(LockError.prototype, "name", { value: "LockError" });

/** mutex() could not get the lock within its timeout. */
export class MutexError extends Error {
  /** Always "MutexError", set on the prototype so that minifiers keep it: {@link isMutexError} checks it instead of `instanceof`, which fails across threads, realms and package copies. */
  declare readonly name: "MutexError";
  constructor(
    /** The lock name that mutex() waited for. */
    readonly key: string,
    /** The holder at the last try, to tell who kept the lock that long; null if the key was free by then. */
    readonly lockData: LockData | null,
    /** How long mutex() waited, as it was asked to. */
    readonly timeoutMs?: number,
  ) {
    super(
      `Timed out${timeoutMs === undefined ? "" : ` after ${timeoutMs} ms`} waiting for the lock on ${JSON.stringify(key)}` +
        (lockData ? `, held by ${describeHolder(lockData)}` : ""),
    );
  }
}
Object.defineProperty(MutexError.prototype, "name", { value: "MutexError" });

/** The process is draining (Heartbeater.setDraining()): finish the job soon. */
export class DrainingSignal extends Error {
  /** Always "DrainingSignal", set on the prototype so that minifiers keep it: {@link isDrainingSignal} checks it instead of `instanceof`, which fails across threads, realms and package copies. */
  declare readonly name: "DrainingSignal";
  constructor(
    /** The lock name of the job that is asked to stop. */
    readonly key: string,
    /** The reason given to Heartbeater.setDraining(), e.g. "deploy". */
    readonly reason: string,
  ) {
    super(`Stopped work on ${JSON.stringify(key)}: the process is draining (${reason})`);
  }
}
Object.defineProperty(DrainingSignal.prototype, "name", { value: "DrainingSignal" });

/**
 * The job's function had already returned: its lock is released (or being
 * released), so a heartbeat kept past the job (in a timer, a request still in
 * flight) throws this, and the job's signal aborts with it. Not a lost lock:
 * the run itself ended normally.
 */
export class RunEndedError extends Error {
  /** Always "RunEndedError", set on the prototype so that minifiers keep it: {@link isRunEndedError} checks it instead of `instanceof`, which fails across threads, realms and package copies. */
  declare readonly name: "RunEndedError";
  constructor(
    /** The lock name the job held. */
    readonly key: string,
    /** The owner hash under which the job held the lock. */
    readonly ownerHash: string,
  ) {
    super(`The job holding ${JSON.stringify(key)} as ${ownerHash} already returned, so its lock is released: stop using its heartbeat and signal`);
  }
}
Object.defineProperty(RunEndedError.prototype, "name", { value: "RunEndedError" });

/**
 * A lock or liveness key holds a value that pulselock did not write (someone
 * overwrote it). pulselock neither takes nor deletes such a key.
 */
export class CorruptRecordError extends Error {
  /** Always "CorruptRecordError", set on the prototype so that minifiers keep it: {@link isCorruptRecordError} checks it instead of `instanceof`, which fails across threads, realms and package copies. */
  declare readonly name: "CorruptRecordError";
  constructor(
    /** The full Redis key (with pulselock's prefix, without the client's), to inspect or delete it by hand. */
    readonly redisKey: string,
    /** What the key holds, to help find the other writer. */
    readonly value: unknown,
  ) {
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 80)) : String(value);
    super(`Redis key ${JSON.stringify(redisKey)} holds ${shown}, which is not a pulselock record (delete it to use the lock name)`);
  }
}
Object.defineProperty(CorruptRecordError.prototype, "name", { value: "CorruptRecordError" });

/**
 * Redis refused or failed a command. `code` is Redis's error code (WRONGTYPE,
 * OOM, READONLY, NOSCRIPT, …) or a connection error code; `transient` says
 * whether a retry may succeed.
 */
export class RedisCommandError extends Error {
  /** Always "RedisCommandError", set on the prototype so that minifiers keep it: {@link isRedisCommandError} checks it instead of `instanceof`, which fails across threads, realms and package copies. */
  declare readonly name: "RedisCommandError";
  constructor(
    /** What pulselock was doing (a script such as "acquire" or "release", or "report" for a liveness write), since one Redis error means different things in each. */
    readonly operation: string,
    /** Redis's error code (`WRONGTYPE`, `READONLY`, `NOREPLICAS`, …), a connection error code, or an Upstash HTTP class (`UNAUTHORIZED`, `RATE_LIMITED`, …). */
    readonly code: string,
    /** Whether a retry may succeed (a failover, a full server, a dropped connection), as opposed to a fault that needs a fix. */
    readonly transient: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Redis failed ${operation}: ${message}`, options);
  }
}
Object.defineProperty(RedisCommandError.prototype, "name", { value: "RedisCommandError" });

/**
 * This process's liveness record could not be written: the liveness thread
 * (or in-thread loop) did not start or did not write its first record within
 * `reporterWorkerSpawnTimeoutMs`, it crashed, or the record lapsed again right
 * after it was written. Locks need a live record, so no lock is taken.
 */
export class LivenessError extends Error {
  /** Always "LivenessError", set on the prototype so that minifiers keep it: {@link isLivenessError} checks it instead of `instanceof`, which fails across threads, realms and package copies. */
  declare readonly name: "LivenessError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
Object.defineProperty(LivenessError.prototype, "name", { value: "LivenessError" });

/**
 * The Locker's `database` cannot be loaded: the module reference cannot be
 * imported or exports no RedisDatabase, this runtime cannot load references at
 * all, or the liveness thread cannot import the client library.
 */
export class DatabaseLoadError extends Error {
  /** Always "DatabaseLoadError", set on the prototype so that minifiers keep it: {@link isDatabaseLoadError} checks it instead of `instanceof`, which fails across threads, realms and package copies. */
  declare readonly name: "DatabaseLoadError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
Object.defineProperty(DatabaseLoadError.prototype, "name", { value: "DatabaseLoadError" });

/** The Locker was terminated: create a new one. Calls made after (or cut short by) terminate() reject with this. */
export class LockerTerminatedError extends Error {
  /** Always "LockerTerminatedError", set on the prototype so that minifiers keep it: {@link isLockerTerminatedError} checks it instead of `instanceof`, which fails across threads, realms and package copies. */
  declare readonly name: "LockerTerminatedError";
  constructor(message = "pulselock: this Locker was terminated; create a new one") {
    super(message);
  }
}
Object.defineProperty(LockerTerminatedError.prototype, "name", { value: "LockerTerminatedError" });

/** Whether `e` is a {@link LockError}, by its name, so that it also recognises one from another thread, realm or copy of pulselock. */
export const isLockError = (e: unknown): e is LockError => hasName(e, "LockError");
/** Whether `e` is a {@link MutexError}, by its name (works across threads, realms and package copies). */
export const isMutexError = (e: unknown): e is MutexError => hasName(e, "MutexError");
/** Whether `e` is a {@link RunEndedError}, by its name (works across threads, realms and package copies). */
export const isRunEndedError = (e: unknown): e is RunEndedError => hasName(e, "RunEndedError");
/** Whether `e` is a {@link DrainingSignal}, by its name (works across threads, realms and package copies). */
export const isDrainingSignal = (e: unknown): e is DrainingSignal => hasName(e, "DrainingSignal");
/** Whether `e` is a {@link CorruptRecordError}, by its name (works across threads, realms and package copies). */
export const isCorruptRecordError = (e: unknown): e is CorruptRecordError => hasName(e, "CorruptRecordError");
/** Whether `e` is a {@link RedisCommandError}, by its name (works across threads, realms and package copies). */
export const isRedisCommandError = (e: unknown): e is RedisCommandError => hasName(e, "RedisCommandError");
/** Whether `e` is a {@link LivenessError}, by its name (works across threads, realms and package copies). */
export const isLivenessError = (e: unknown): e is LivenessError => hasName(e, "LivenessError");
/** Whether `e` is a {@link DatabaseLoadError}, by its name (works across threads, realms and package copies). */
export const isDatabaseLoadError = (e: unknown): e is DatabaseLoadError => hasName(e, "DatabaseLoadError");
/** Whether `e` is a {@link LockerTerminatedError}, by its name (works across threads, realms and package copies). */
export const isLockerTerminatedError = (e: unknown): e is LockerTerminatedError => hasName(e, "LockerTerminatedError");
