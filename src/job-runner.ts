import type { Acquired, Acquirer } from "./acquirer";
import type { DatabaseHandle } from "./database-handle";
import { LockError } from "./errors";
import type { Heartbeat } from "./heartbeater";
import type { HeldLocks } from "./held-locks";
import { LockRun, type HoldOps } from "./lock-run";
import { lockHoldOps } from "./lock-ops";
import { inOrderWithCalls, type Liveness } from "./liveness";
import { describe } from "./describe-value";
import type { ResolvedOptions } from "./options";
import type { Releaser } from "./releaser";
import type { ReleaseResult, RunResult, WaitUntil } from "./results";
import { LockStatus } from "./statuses";
import { underWaitUntil } from "./wait-until";

/** What a run holds: a lock or a semaphore permit, taken under `identity` with `seq`. */
export type Hold = Extract<Acquired, { status: LockStatus.SUCCESS }> & {
  key: string;
  ops: HoldOps;
  /** Frees it: up to `attempts` tries (see Releaser.release for `heldAt` and `onSent`). */
  release(attempts: number, heldAt: (sentAt: number) => boolean, onSent?: () => void): Promise<ReleaseResult>;
};

type RunSuccess<T> = Extract<RunResult<T>, { status: LockStatus.SUCCESS }>;

type RefusedLock = Exclude<Acquired, { status: LockStatus.SUCCESS }>;

/** A job's function: it gets the heartbeat and its owner hash. */
export type Job<T> = (heartbeat: Heartbeat, ownerHash: string) => Promise<T> | T;

export interface JobRunnerParams {
  database: DatabaseHandle;
  liveness: Liveness;
  options: ResolvedOptions;
  acquirer: Acquirer;
  releaser: Releaser;
  held: HeldLocks;
  /** A run lost its lock (and its call may not be able to say so: it reached its end first). */
  onLost: (error: LockError) => void;
  /** A transient Redis error that did not fail the call. */
  onError: (error: unknown) => void;
}

/**
 * Runs a job under a lock: acquire, the run with its heartbeats and
 * self-fencing deadline (LockRun), and the release that always follows. It
 * also knows every running job, so that a lapsed identity ends their runs.
 */
export class JobRunner {
  readonly #runs = new Set<{ run: LockRun; generation: number; key: string }>();

  constructor(private readonly p: JobRunnerParams) {}

  /** Runs `fn` under the lock; the call's waitUntil keeps the isolate alive until the job and its release are done. */
  run<T>(key: string, fn: Job<T>, trace: string | undefined, waitFlagMs: string, waitUntil: WaitUntil | undefined): Promise<RunResult<T>> {
    return this.runHolding(() => this.#acquireLock(key, trace, waitFlagMs, waitUntil), fn, waitUntil);
  }

  /**
   * Runs `fn` under what `acquire` takes (a lock, a semaphore permit), with the same heartbeats, self-fencing
   * deadline and release as a lock; a refusal is returned as it is, and `fn` does not run.
   */
  runHolding<T, R extends { status: Exclude<LockStatus, LockStatus.SUCCESS> }>(
    acquire: () => Promise<Hold | R>,
    fn: Job<T>,
    waitUntil: WaitUntil | undefined,
  ): Promise<RunSuccess<T> | R> {
    return underWaitUntil(waitUntil, () => this.#runHeld(acquire, fn));
  }

  /** Every run under `generation` or an earlier one loses its lock, for `reason`. */
  loseUpTo(generation: number, reason: string): void {
    for (const { run, key, generation: g } of this.#runs) {
      if (g <= generation) run.lose(new LockError(key, run.lockData.ownerHash, null, reason));
    }
  }

  /** A lock as a Hold: extended and rechecked by its record, freed by a compare-and-delete. */
  async #acquireLock(key: string, trace: string | undefined, waitFlagMs: string, waitUntil: WaitUntil | undefined): Promise<Hold | RefusedLock> {
    const acquired = await this.p.acquirer.acquire(key, trace, "acquireAndRun", waitFlagMs, waitUntil);
    if (acquired.status !== LockStatus.SUCCESS) return acquired;
    const db = this.p.database.known!; // known: the acquire loaded it
    const owner = { processHash: acquired.identity.processHash, seq: acquired.seq };
    // Named fields, not a spread of `acquired`: a spread of a result object costs more than the rest of this method.
    return {
      status: acquired.status,
      lockData: acquired.lockData,
      sentAt: acquired.sentAt,
      identity: acquired.identity,
      seq: acquired.seq,
      key,
      ops: lockHoldOps(db, key, owner, this.p.options.lockTtlMs),
      release: (attempts, heldAt, onSent) => this.p.releaser.release(key, owner, attempts, heldAt, onSent),
    };
  }

  async #runHeld<T, R>(acquire: () => Promise<Hold | R>, fn: Job<T>): Promise<RunSuccess<T> | R> {
    if (typeof fn !== "function") {
      throw new TypeError(`pulselock: acquireAndRun() needs a function to run, got ${describe(fn)}`);
    }
    const acquired = await acquire();
    if ((acquired as Hold | { status: unknown }).status !== LockStatus.SUCCESS) return acquired as R;
    const hold = acquired as Hold;
    const { lockData, identity, seq, sentAt, key } = hold;
    const db = this.p.database.known!; // known: the acquire loaded it
    const run = new LockRun({
      lockData,
      identity,
      seq,
      sentAt,
      ops: hold.ops,
      key,
      options: this.p.options,
      liveness: this.p.liveness,
      onLost: this.p.onLost,
      onError: this.p.onError,
    });
    const entry = { key, generation: identity.generation, run };
    this.#runs.add(entry);
    let value: T | undefined;
    let failure: { error: unknown } | undefined;
    try {
      // A run whose deadline passed before its job began (the thread stalled between the acquire's send and its
      // reply) is lost already: others may hold the lock by now, so the job does not start at all.
      if (!run.lost) value = await fn(run.createHeartbeat(), lockData.ownerHash);
    } catch (error) {
      failure = { error };
    }
    run.finish();
    this.#runs.delete(entry);
    let lost = run.lost;
    try {
      // A retry that finds the lock gone or taken counts as released when the first try left before the deadline:
      // that try may have deleted it, and nobody else could have held it while the job ran.
      // Where the delete of the liveness record cannot overtake the release (same connection or HTTP request), liveness
      // may rest as soon as the release is out: the delete then shares its request. Elsewhere it waits for the reply.
      const sent = inOrderWithCalls(this.p.liveness, db) ? () => this.p.held.releasing(lockData.ownerHash) : undefined;
      const released = await hold.release(lost ? 1 : Infinity, (at) => run.heldAt(at), sent);
      if (!lost && released.status !== LockStatus.SUCCESS) {
        // The lock was gone by the end although no check noticed in time: the caller must still learn it.
        lost = new LockError(key, run.lockData.ownerHash, released.lockData, "the lock was no longer held when the job ended");
        this.p.onLost(lost);
      }
    } catch (error) {
      if (!failure && !lost) throw error;
      this.p.onError(error);
    } finally {
      this.p.held.forget(lockData.ownerHash);
    }
    if (failure) throw failure.error;
    if (lost) throw lost;
    return { status: LockStatus.SUCCESS, result: value as T };
  }
}
