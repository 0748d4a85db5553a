import type { DatabaseHandle } from "./database-handle";
import { LockError } from "./errors";
import type { HeldLocks } from "./held-locks";
import { inOrderWithCalls, type Liveness } from "./liveness";
import { describe } from "./describe-value";
import type { MultiLockAcquirer } from "./multi-lock-acquirer";
import { MultiLockRun } from "./multi-lock-run";
import type { MultiHeartbeat, MultiRunResult } from "./multi-lock-types";
import type { ResolvedOptions } from "./options";
import type { Releaser } from "./releaser";
import type { WaitUntil } from "./results";
import { LockStatus } from "./statuses";
import { underWaitUntil } from "./wait-until";

/** A multi-key job's function: it gets the set's heartbeat. */
export type MultiJob<T> = (heartbeat: MultiHeartbeat) => Promise<T> | T;

export interface MultiLockRunnerParams {
  database: DatabaseHandle;
  liveness: Liveness;
  options: ResolvedOptions;
  acquirer: MultiLockAcquirer;
  releaser: Releaser;
  held: HeldLocks;
  onLost: (error: LockError) => void;
  onError: (error: unknown) => void;
}

/**
 * Runs a job under a set of locks (acquireAllAndRun()): take the whole set,
 * run the job under a MultiLockRun, and always release every key afterwards,
 * as JobRunner does for one lock. It knows every running set, so that a
 * lapsed identity ends their runs.
 */
export class MultiLockRunner {
  readonly #runs = new Set<{ run: MultiLockRun; generation: number }>();

  constructor(private readonly p: MultiLockRunnerParams) {}

  run<T>(
    keys: readonly string[],
    fn: MultiJob<T>,
    trace: string | undefined,
    waitFlagMs: string,
    waitUntil: WaitUntil | undefined,
  ): Promise<MultiRunResult<T>> {
    return underWaitUntil(waitUntil, () => this.#runHeld(keys, fn, trace, waitFlagMs, waitUntil));
  }

  /** Every set held under `generation` or an earlier one is lost, for `reason`. */
  loseUpTo(generation: number, reason: string): void {
    for (const { run, generation: g } of this.#runs) if (g <= generation) run.lose(reason);
  }

  async #runHeld<T>(
    keys: readonly string[],
    fn: MultiJob<T>,
    trace: string | undefined,
    waitFlagMs: string,
    waitUntil: WaitUntil | undefined,
  ): Promise<MultiRunResult<T>> {
    if (typeof fn !== "function") throw new TypeError(`pulselock: acquireAllAndRun() needs a function to run, got ${describe(fn)}`);
    const acquired = await this.p.acquirer.acquireAll(keys, trace, waitFlagMs, waitUntil);
    if (acquired.status !== LockStatus.SUCCESS) return acquired;
    const { locks, identity, seq } = acquired;
    const db = this.p.database.known!; // known: the acquire loaded it
    const run = new MultiLockRun({
      db,
      locks,
      identity,
      seq,
      options: this.p.options,
      liveness: this.p.liveness,
      onLost: this.p.onLost,
      onError: this.p.onError,
    });
    const entry = { run, generation: identity.generation };
    this.#runs.add(entry);
    let value: T | undefined;
    let failure: { error: unknown } | undefined;
    try {
      // Lost already (the thread stalled past the set's deadline before the job began): the job does not start.
      if (!run.lost) value = await fn(run.createHeartbeat());
    } catch (error) {
      failure = { error };
    }
    run.finish();
    this.#runs.delete(entry);
    let lost = run.lost;
    let releaseError: { error: unknown } | undefined;
    const owner = { processHash: identity.processHash, seq };
    const inOrder = inOrderWithCalls(this.p.liveness, db);
    const { lockData } = run; // in the order of `keys`, as acquireAll() returned the locks
    try {
      // Every key at once (one script call on a single Redis: the releases of one turn share a batch), each as
      // JobRunner releases one lock: a retry that finds it gone counts as released when its first try left in time.
      const released = await this.p.releaser.releaseAll(
        keys,
        owner,
        lost ? 1 : Infinity,
        (at) => run.heldAt(at),
        inOrder ? (i) => this.p.held.releasing(lockData[i]!.ownerHash) : undefined,
      );
      for (let i = 0; i < released.length; i++) {
        const outcome = released[i]!;
        if (outcome.status === "rejected") {
          if (!failure && !lost && !releaseError) releaseError = { error: outcome.reason };
          else this.p.onError(outcome.reason);
        } else if (!lost && outcome.value.status !== LockStatus.SUCCESS) {
          // A key was gone by the end although no check noticed in time: the caller must still learn it.
          lost = new LockError(keys[i]!, lockData[i]!.ownerHash, outcome.value.lockData, "the lock was no longer held when the job ended");
          this.p.onLost(lost);
        }
      }
    } finally {
      for (const { ownerHash } of lockData) this.p.held.forget(ownerHash);
    }
    if (failure) throw failure.error;
    if (lost) throw lost;
    if (releaseError) throw releaseError.error;
    return { status: LockStatus.SUCCESS, result: value as T };
  }
}
