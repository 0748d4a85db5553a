import type { Acquirer } from "./acquirer";
import type { DatabaseHandle } from "./database-handle";
import type { LockError } from "./errors";
import type { HeldLocks } from "./held-locks";
import type { Liveness, Platform } from "./liveness";
import { describe } from "./describe-value";
import { MultiLockAcquirer } from "./multi-lock-acquirer";
import { assertKeySet } from "./multi-lock-keys";
import { MultiLockRunner, type MultiJob } from "./multi-lock-runner";
import type { MultiRunResult } from "./multi-lock-types";
import { lockTarget, mutexCall, type MutexWaiter } from "./mutex-waiter";
import type { ResolvedOptions } from "./options";
import type { ProcessIdentity } from "./process-identity";
import type { Releaser } from "./releaser";
import type { MutexOptions, WaitUntil } from "./results";

function assertTrace(trace: unknown, method: string): void {
  if (trace !== undefined && typeof trace !== "string") throw new TypeError(`pulselock: ${method}() takes a trace string, got ${describe(trace)}`);
}

export interface MultiLocksParams {
  database: DatabaseHandle;
  liveness: Liveness;
  platform: Platform;
  identity: ProcessIdentity;
  held: HeldLocks;
  releaser: Releaser;
  acquirer: Acquirer;
  /** The Locker's mutex() waiter: mutexAll() waits the same way, on the same wake-up connection. */
  mutex: MutexWaiter;
  options: ResolvedOptions;
  assertOpen: () => void;
  isTerminated: () => boolean;
  onLost: (error: LockError) => void;
  onError: (error: unknown) => void;
}

/**
 * The Locker's multi-key lock (acquireAllAndRun(), mutexAll()), wired from
 * the Locker's own parts: the same identity, liveness, held locks and
 * releases as its single locks, so a set and a single lock of one name
 * exclude each other, and terminate() and a lapse end both.
 */
export class MultiLocks {
  readonly #runner: MultiLockRunner;

  constructor(private readonly p: MultiLocksParams) {
    const acquirer = new MultiLockAcquirer({ ...p, lockTtlMs: p.options.lockTtlMs, requestScoped: !!p.platform.requestScoped });
    this.#runner = new MultiLockRunner({ ...p, acquirer });
  }

  /** acquireAllAndRun(): bad keys reject with a TypeError before any Redis call. */
  async run<T>(keys: readonly string[], fn: MultiJob<T>, trace: string | undefined, waitUntil: WaitUntil | undefined): Promise<MultiRunResult<T>> {
    assertKeySet(keys, "acquireAllAndRun");
    assertTrace(trace, "acquireAllAndRun");
    return this.#runner.run([...keys], fn, trace, "", waitUntil);
  }

  /** mutexAll(): bad keys or options throw a TypeError before any Redis call. */
  async mutex<T>(keys: readonly string[], options: MutexOptions, fn: MultiJob<T>): Promise<T> {
    assertKeySet(keys, "mutexAll");
    if (typeof options !== "object" || options === null)
      throw new TypeError("pulselock: mutexAll() takes its options as an object: { timeoutMs, signal?, trace? }");
    const call = mutexCall(keys[0]!, options, fn, undefined, undefined, "mutexAll");
    assertTrace(options.trace, "mutexAll");
    this.p.assertOpen();
    const set = [...keys];
    const waitUntil = options.waitUntil ?? this.p.options.waitUntil;
    // A failed try holds nothing (the set is all or nothing), so waiting for a set can never deadlock.
    return this.p.mutex.wait(
      (db) => set.map((key) => lockTarget(db, key)),
      call,
      waitUntil,
      (flagMs, taken) =>
        this.#runner.run(
          set,
          (heartbeat) => {
            taken();
            return fn(heartbeat);
          },
          options.trace,
          flagMs,
          waitUntil,
        ),
    );
  }

  /** Every set held under `generation` or an earlier one is lost. */
  loseUpTo(generation: number, reason: string): void {
    this.#runner.loseUpTo(generation, reason);
  }
}
