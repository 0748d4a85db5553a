import { MAX_TIMER_MS } from "./arguments";
import { backoffMs } from "./backoff";
import type { DatabaseHandle } from "./database-handle";
import { DEFAULTS } from "./defaults";
import { MutexError } from "./errors";
import type { LockData } from "./lock-data";
import { publishMode, waitFlagKey } from "./lock-batches";
import type { Liveness, Platform } from "./liveness";
import type { MultiJob, MultiLockRunner } from "./multi-lock-runner";
import type { MutexCall } from "./mutex-waiter";
import type { ReleaseWakeups } from "./release-wakeups";
import type { WaitUntil } from "./results";
import { REMOVE } from "./scripts/remove";
import { LockStatus } from "./statuses";
import { withTimeout } from "./timers";

const noop = (): void => {};

export interface MultiMutexWaiterParams {
  database: DatabaseHandle;
  liveness: Liveness;
  platform: Platform;
  runner: MultiLockRunner;
  lockRecheckMs: number;
  onError: (error: unknown) => void;
}

/**
 * mutexAll(): tries to take the whole set until it gets it or the timeout
 * passes, as mutex() does for one lock. A failed try holds nothing (the set is
 * all or nothing), so waiting can never deadlock. Between tries it waits
 * with capped exponential backoff and jitter, or until the release of any key
 * of the set wakes it (pub/sub where the transport has it: a failed try flags
 * the keys it found held, so that their releases publish).
 */
export class MultiMutexWaiter {
  #wakeups: ReleaseWakeups | undefined;

  constructor(private readonly p: MultiMutexWaiterParams) {}

  async run<T>(keys: readonly string[], call: MutexCall, fn: MultiJob<T>, waitUntil: WaitUntil | undefined): Promise<T> {
    const { options: o, baseMs: base } = call;
    const signal = o.signal;
    const start = this.p.liveness.now();
    let wake: (() => void) | undefined;
    let woken: boolean;
    const db = await this.p.database.get();
    this.#wakeups ??= this.p.platform.releaseWakeups?.(db, this.p.onError);
    const wakeups = this.#wakeups;
    const onWake = () => {
      woken = true;
      wake?.();
    };
    const stops = wakeups ? await Promise.all(keys.map((key) => wakeups.listen(key, onWake))) : [];
    let flagged = false;
    try {
      let lockData: LockData | null = null;
      let heldKey = keys[0]!;
      for (let attempt = 0; ; attempt++) {
        signal?.throwIfAborted();
        woken = false;
        const flagMs =
          publishMode(db) === "0" || !wakeups ? "" : String(Math.ceil(Math.min(Math.max(1, start + o.timeoutMs - this.p.liveness.now()), MAX_TIMER_MS)));
        flagged ||= flagMs !== "";
        const res = await this.p.runner.run(
          keys,
          (heartbeat) => {
            flagged = false; // the set is ours: its releases take the flags along, whatever fn does
            return fn(heartbeat);
          },
          o.trace,
          flagMs,
          waitUntil,
        );
        if (res.status === LockStatus.SUCCESS) return res.result;
        ({ key: heldKey, lockData } = res);
        const left = start + o.timeoutMs - this.p.liveness.now();
        if (left <= 0) throw new MutexError(heldKey, lockData, o.timeoutMs);
        if (woken) continue;
        await new Promise<void>((resolve, reject) => {
          const done = () => {
            wake = undefined;
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
          };
          const onAbort = () => (done(), reject(signal!.reason));
          const timer = setTimeout(() => (done(), resolve()), Math.min(left, backoffMs(attempt, base, Math.max(base, DEFAULTS.mutexMaxBackoffMs))));
          wake = () => (done(), resolve());
          signal?.addEventListener("abort", onAbort, { once: true });
          if (signal?.aborted) onAbort();
        });
      }
    } finally {
      for (const stop of stops) stop();
      // A waiter that leaves without the set takes its flags along (bounded; should a delete fail, the flag's TTL ends it).
      if (flagged) {
        const remove = (key: string) =>
          withTimeout(db.run(REMOVE, [waitFlagKey(db.lockKey(key))], []), this.p.lockRecheckMs, () => new Error("timed out")).catch(noop);
        await Promise.all(keys.map(remove));
      }
    }
  }

  /** Closes the wake-up subscriber connection, if one was opened. */
  async close(): Promise<void> {
    await this.#wakeups?.close();
  }
}
