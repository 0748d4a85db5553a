import { backoffMs } from "./backoff";
import type { RedisDatabase } from "./database";
import type { DatabaseHandle } from "./database-handle";
import { DEFAULTS } from "./defaults";
import { MutexError } from "./errors";
import type { Heartbeat } from "./heartbeater";
import type { JobRunner } from "./job-runner";
import { assertLockName } from "./keys";
import type { LockData } from "./lock-data";
import { publishMode, waitFlagKey } from "./lock-batches";
import { assertKnownOptions, MUTEX_OPTION_NAMES } from "./option-names";
import type { Liveness, Platform } from "./liveness";
import { MAX_TIMER_MS } from "./arguments";
import { describe } from "./describe-value";
import type { ReleaseWakeups } from "./release-wakeups";
import type { MutexOptions, WaitUntil } from "./results";
import { REMOVE } from "./scripts/remove";
import { LockStatus } from "./statuses";
import { clearTimer, setTimer, withTimeout } from "./timers";
import { underWaitUntil } from "./wait-until";

const noop = (): void => {};

/**
 * How much longer than a leaving waiter's own flagging a flag may last and still be deleted with it: its last try set
 * the flag to its remaining time, counted from when Redis ran the script, a round trip or so after.
 */
const FLAG_SLACK_MS = 100;

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
  if (o === timeoutOrOptions) assertKnownOptions(`${method}()`, o, MUTEX_OPTION_NAMES);
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

/** Where a waiter hears of a release, and the wait flag its refused tries set (so that the release announces itself). */
export interface WaitTarget {
  /** The pub/sub channel its releases are announced on (db.wakeChannel() of a lock). */
  channel: string;
  /** The wait flag, deleted when the waiter leaves without what it waited for. */
  flagKey: string;
}

/**
 * One try of a waiter: the job's result, or a refusal that names the held key and its holder (null when none can be
 * named). It gets the wait flags' lifetime ("" for none) and calls `taken` once what it waits for is its own.
 */
export type Attempt<T> = (
  flagMs: string,
  taken: () => void,
) => Promise<{ status: LockStatus.SUCCESS; result: T } | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; key: string; lockData: LockData | null }>;

/** The wait target of the lock named `key`. */
export const lockTarget = (db: RedisDatabase, key: string): WaitTarget => ({ channel: db.wakeChannel(key), flagKey: waitFlagKey(db.lockKey(key)) });

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
      (db) => [lockTarget(db, key)],
      call,
      waitUntil,
      async (flagMs, taken) => {
        const res = await this.p.runner.run(
          key,
          (heartbeat) => {
            taken();
            return fn(heartbeat);
          },
          call.options.trace,
          flagMs,
          waitUntil,
        );
        return res.status === LockStatus.SUCCESS ? res : { ...res, key };
      },
    );
  }

  /**
   * Makes `attempt` until it runs its job or the timeout passes, woken by a release announced for any of `targets`
   * (mutex(): one lock; mutexAll(): a set, which holds nothing between tries; a semaphore's waitAndRun(): its
   * permits). Once `attempt` calls `taken`, the release of what it took takes the flags along. The whole wait goes to
   * `waitUntil`: on Cloudflare Workers the timers and I/O between tries die with a request that answered first.
   */
  wait<T>(targets: (db: RedisDatabase) => WaitTarget[], call: MutexCall, waitUntil: WaitUntil | undefined, attempt: Attempt<T>): Promise<T> {
    return underWaitUntil(waitUntil, () => this.#wait(targets, call, attempt));
  }

  async #wait<T>(targets: (db: RedisDatabase) => WaitTarget[], call: MutexCall, attempt: Attempt<T>): Promise<T> {
    const { options: o, baseMs: base, pause } = call;
    const signal = o.signal;
    const start = this.p.liveness.now();
    let woken: boolean;
    let wake: (() => void) | undefined;
    const db = await this.p.database.get();
    const wakeups = (this.#wakeups ??= this.p.platform.releaseWakeups?.(db, this.p.onError));
    const onWake = () => {
      woken = true;
      wake?.();
    };
    const waitingFor = targets(db);
    const subscriptions = wakeups ? waitingFor.map((t) => wakeups.listen(t.channel, onWake)) : [];
    // The first try does not wait for a subscription on its way: a pub/sub connection can stall while Redis answers
    // (a NAT that dropped an idle socket), and a wait on a free key least of all may hang on it. Once they are all in
    // place, the subscriptions wake the waiter once, and that retry catches a release announced before anyone listened.
    const readies = subscriptions.flatMap(({ ready }) => (ready ? [ready] : []));
    if (readies.length > 0) void Promise.all(readies).then(onWake);
    // terminate(): the wait ends at once with LockerTerminatedError, not at its next try.
    const ended = this.p.database.ended;
    let flagged = false;
    try {
      for (let tries = 0; ; tries++) {
        if (ended.reason) throw ended.reason;
        signal?.throwIfAborted();
        woken = false;
        // With wake-ups, a failed try flags the lock, so that its release publishes.
        const flagMs =
          publishMode(db) === "0" || !wakeups ? "" : String(Math.ceil(Math.min(Math.max(1, start + o.timeoutMs - this.p.liveness.now()), MAX_TIMER_MS)));
        flagged ||= flagMs !== "";
        // Once the lock is ours, its release takes the flag along, whatever the job does; a caller that gave up while
        // the last try was out does not have its job run (the lock is released at once).
        const res = await attempt(flagMs, () => {
          flagged = false;
          signal?.throwIfAborted();
        });
        if (res.status === LockStatus.SUCCESS) return res.result;
        const left = start + o.timeoutMs - this.p.liveness.now();
        if (left <= 0) throw new MutexError(res.key, res.lockData, o.timeoutMs);
        if (woken) continue;
        await new Promise<void>((resolve, reject) => {
          const wait = Math.min(left, backoffMs(tries, base, Math.max(base, DEFAULTS.mutexMaxBackoffMs)));
          let stopListening = noop;
          const done = () => {
            wake = undefined;
            clearTimer(timer);
            signal?.removeEventListener("abort", onAbort);
            stopListening();
          };
          const onAbort = () => (done(), reject(signal!.reason));
          // A caller's pause ends the wait (or its rejection ends mutex()); the timer then only bounds it by the timeout.
          const timer = setTimer(() => (done(), resolve()), pause ? Math.min(left, MAX_TIMER_MS) : wait);
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
          stopListening = ended.listen((reason) => (done(), reject(reason)));
          if (signal?.aborted) onAbort();
        });
      }
    } finally {
      for (const { stop } of subscriptions) stop();
      // A waiter that leaves without the lock (timeout, abort, error) takes its flags along, so that no key outlives
      // the call, but not a flag that lasts longer than its own could (by FLAG_SLACK_MS): another waiter raised that
      // one, and its release still needs to publish. Should a delete fail, the flag's TTL ends it anyway.
      // After terminate() nobody waits for the deletes (the connection may be the reason it ended).
      if (flagged) {
        const ownMs = String(Math.ceil(Math.max(0, start + o.timeoutMs - this.p.liveness.now())) + FLAG_SLACK_MS);
        const remove = ({ flagKey }: WaitTarget) =>
          withTimeout(db.run(REMOVE, [flagKey], [ownMs]), this.p.lockRecheckMs, () => new Error("timed out")).catch(noop);
        const removing = Promise.all(waitingFor.map(remove));
        if (!ended.reason) await removing;
      }
    }
  }

  /** Closes the wake-up subscriber connection, if one was opened. */
  async close(): Promise<void> {
    await this.#wakeups?.close();
  }
}
