import { backoffMs } from "./backoff";
import type { DatabaseHandle } from "./database-handle";
import { DEFAULTS } from "./defaults";
import { MutexError } from "./errors";
import type { Heartbeat } from "./heartbeater";
import type { RedisDatabase } from "./database";
import type { Job, JobRunner } from "./job-runner";
import { assertLockName } from "./keys";
import type { LockData } from "./lock-data";
import { publishMode, waitFlagKey } from "./lock-batches";
import type { Liveness, Platform } from "./liveness";
import { MAX_TIMER_MS } from "./arguments";
import { describe } from "./describe-value";
import type { ReleaseWakeups } from "./release-wakeups";
import type { MutexOptions, WaitUntil } from "./results";
import { REMOVE } from "./scripts/remove";
import { LockStatus } from "./statuses";
import { withTimeout } from "./timers";

const noop = (): void => {};

/** A mutex() call's arguments, checked: the seed's positional form and the options form become one. */
export interface MutexCall {
  options: MutexOptions;
  /** The first pause of the backoff. */
  baseMs: number;
  /** The caller's own pause between tries (the seed's recheckDelay function), instead of the backoff. */
  pause: (() => Promise<unknown>) | undefined;
}

/** Checks mutex()'s arguments (both forms); every bad one is a TypeError that names it. */
export function mutexCall(
  key: string,
  timeoutOrOptions: number | MutexOptions,
  fn: unknown,
  recheckDelay: number | (() => Promise<unknown>) | undefined,
  trace: string | undefined,
  method = "mutex",
): MutexCall {
  const pause = typeof recheckDelay === "function" ? recheckDelay : undefined;
  const o: MutexOptions =
    typeof timeoutOrOptions === "object" && timeoutOrOptions !== null
      ? timeoutOrOptions
      : { timeoutMs: timeoutOrOptions, recheckDelayMs: typeof recheckDelay === "function" ? undefined : recheckDelay, trace };
  const bad = (what: string, value: unknown) => new TypeError(`pulselock: ${method}() needs ${what}, got ${describe(value)}`);
  if (o.waitUntil !== undefined && typeof o.waitUntil !== "function") {
    throw new TypeError(`pulselock: option waitUntil must be a function, got ${describe(o.waitUntil)}`);
  }
  if (typeof o.timeoutMs !== "number" || !(o.timeoutMs >= 0)) throw bad("timeoutMs >= 0", o.timeoutMs);
  const base = o.recheckDelayMs ?? DEFAULTS.mutexRecheckMs;
  // A timer cannot wait longer than MAX_TIMER_MS: beyond it fires at once, and the waiter would spin on Redis.
  if (typeof base !== "number" || !(base > 0 && base <= MAX_TIMER_MS)) {
    throw bad(`recheckDelayMs in (0, ${MAX_TIMER_MS}] (or recheckDelay as a function that returns a promise)`, base);
  }
  if (o.trace !== undefined && typeof o.trace !== "string") throw bad("trace to be a string", o.trace);
  const sig = o.signal as Partial<AbortSignal> | null | undefined;
  if (sig !== undefined && (typeof sig?.aborted !== "boolean" || typeof sig.addEventListener !== "function")) throw bad("signal to be an AbortSignal", sig);
  if (typeof fn !== "function") throw bad("a function to run", fn);
  assertLockName(key, method);
  return { options: o, baseMs: base, pause };
}

/** What a waiter waits for: a lock, or a permit of a semaphore. */
export interface WaitTarget<T> {
  /** The name, for MutexError. */
  key: string;
  /** Where its releases are announced (pub/sub). */
  channel: string;
  /** The wait flag a refused try sets (so that a release publishes), deleted when the waiter leaves without it. */
  flagKey: string;
  /** One try to run `job` under it: a refusal names a holder (null when it cannot). */
  tryRun(
    job: Job<T>,
    trace: string | undefined,
    flagMs: string,
    waitUntil: WaitUntil | undefined,
  ): Promise<{ status: LockStatus.SUCCESS; result: T } | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; lockData: LockData | null }>;
}

export interface MutexWaiterParams {
  database: DatabaseHandle;
  liveness: Liveness;
  platform: Platform;
  runner: JobRunner;
  lockRecheckMs: number;
  onError: (error: unknown) => void;
}

/**
 * mutex(): tries to run the job under the lock until it gets it or the
 * timeout passes. Between tries it waits with capped exponential backoff and
 * jitter, or until a release wakes it (pub/sub, where the transport has it:
 * a failed try flags the lock so that its release publishes).
 */
export class MutexWaiter {
  #wakeups: ReleaseWakeups | undefined;

  constructor(private readonly p: MutexWaiterParams) {}

  /** Waits for the lock on `key`, then runs `fn` under it. */
  run<T>(key: string, call: MutexCall, fn: (heartbeat: Heartbeat) => Promise<T> | T, waitUntil: WaitUntil | undefined): Promise<T> {
    return this.wait(
      (db) => ({
        key,
        channel: db.wakeChannel(key),
        flagKey: waitFlagKey(db.lockKey(key)),
        tryRun: (job, trace, flagMs, until) => this.p.runner.run(key, job, trace, flagMs, until),
      }),
      call,
      fn,
      waitUntil,
    );
  }

  /** Waits for what `target` takes (a lock, a semaphore permit), then runs `fn` under it; MutexError on timeout. */
  async wait<T>(
    target: (db: RedisDatabase) => WaitTarget<T>,
    call: MutexCall,
    fn: (heartbeat: Heartbeat) => Promise<T> | T,
    waitUntil: WaitUntil | undefined,
  ): Promise<T> {
    const { options: o, baseMs: base, pause } = call;
    const signal = o.signal;
    const start = this.p.liveness.now();
    let woken: boolean;
    let wake: (() => void) | undefined;
    const db = await this.p.database.get();
    const { key, channel, flagKey, tryRun } = target(db);
    this.#wakeups ??= this.p.platform.releaseWakeups?.(db, this.p.onError);
    const stop = this.#wakeups
      ? await this.#wakeups.listen(channel, () => {
          woken = true;
          wake?.();
        })
      : noop;
    let flagged = false;
    try {
      let lockData: LockData | null = null;
      for (let attempt = 0; ; attempt++) {
        signal?.throwIfAborted();
        woken = false;
        // With wake-ups, a failed try flags the lock, so that its release publishes.
        const flagMs =
          publishMode(db) === "0" || !this.#wakeups ? "" : String(Math.ceil(Math.min(Math.max(1, start + o.timeoutMs - this.p.liveness.now()), MAX_TIMER_MS)));
        flagged ||= flagMs !== "";
        const res = await tryRun(
          (heartbeat) => {
            flagged = false; // the lock is ours: its release takes the flag along, whatever fn does
            return fn(heartbeat);
          },
          o.trace,
          flagMs,
          waitUntil,
        );
        if (res.status === LockStatus.SUCCESS) return res.result;
        lockData = res.lockData;
        const left = start + o.timeoutMs - this.p.liveness.now();
        if (left <= 0) throw new MutexError(key, lockData, o.timeoutMs);
        if (woken) continue;
        await new Promise<void>((resolve, reject) => {
          const wait = Math.min(left, backoffMs(attempt, base, Math.max(base, DEFAULTS.mutexMaxBackoffMs)));
          const done = () => {
            wake = undefined;
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
          };
          const onAbort = () => (done(), reject(signal!.reason));
          // A caller's pause ends the wait (or its rejection ends mutex()); the timer then only bounds it by the timeout.
          const timer = setTimeout(() => (done(), resolve()), pause ? Math.min(left, MAX_TIMER_MS) : wait);
          const end = () => (done(), resolve());
          wake = end;
          if (pause) {
            Promise.resolve()
              .then(pause)
              .then(
                () => wake === end && end(),
                (error: unknown) => wake === end && (done(), reject(error)),
              );
          }
          signal?.addEventListener("abort", onAbort, { once: true });
          if (signal?.aborted) onAbort();
        });
      }
    } finally {
      stop();
      // A waiter that leaves without the lock (timeout, abort, error) takes its flag along: no key outlives the call.
      // Another waiter flags the lock again on its next try; should the delete fail, the flag's TTL ends it anyway.
      if (flagged) {
        await withTimeout(db.run(REMOVE, [flagKey], []), this.p.lockRecheckMs, () => new Error("timed out")).catch(noop);
      }
    }
  }

  /** Closes the wake-up subscriber connection, if one was opened. */
  async close(): Promise<void> {
    await this.#wakeups?.close();
  }
}
