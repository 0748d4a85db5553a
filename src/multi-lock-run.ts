import type { RedisDatabase } from "./database";
import { LockError } from "./errors";
import type { Identity, Liveness } from "./liveness";
import type { LockData } from "./lock-data";
import { lockHoldOps } from "./lock-ops";
import { LockRun, delayWithHeartbeats, exactSignal } from "./lock-run";
import type { TakenKey } from "./multi-lock-acquirer";
import type { MultiHeartbeat } from "./multi-lock-types";
import type { ResolvedOptions } from "./options";

export interface MultiLockRunParams {
  db: RedisDatabase;
  locks: readonly TakenKey[];
  identity: Identity;
  seq: string;
  options: ResolvedOptions;
  liveness: Liveness;
  /** The set was lost (called once, with the LockError of the key that was lost first). */
  onLost: (error: LockError) => void;
  onError: (error: unknown) => void;
}

const SET_RUN = Symbol("pulselock.setRun");

/** What every set's heartbeat inherits, as a single lock's does (lock-run.ts): accessors on a shared prototype, not defined per job. */
const MULTI_HEARTBEAT_PROTO: object = Object.create(Function.prototype, {
  signal: {
    get(this: { [SET_RUN]: MultiLockRun }) {
      return this[SET_RUN].signal;
    },
  },
  lockData: {
    get(this: { [SET_RUN]: MultiLockRun }) {
      return new Map<string, LockData>(this[SET_RUN].runs.map(({ key, run }) => [key, run.lockData]));
    },
    enumerable: true,
  },
});

/**
 * The life of a held set inside acquireAllAndRun(): one LockRun per key (each
 * with its own extensions, rechecks and self-fencing deadline, counted from
 * the send time of the call that took that key), bound together so that
 * losing any key loses the set: every other key's run is marked lost at once,
 * the set's signal aborts with the first key's LockError, and every later
 * heartbeat throws it. The caller then releases every key.
 */
export class MultiLockRun {
  readonly runs: { key: string; run: LockRun }[] = [];
  #lost: LockError | undefined;
  #controller: AbortController | undefined;
  readonly #p: MultiLockRunParams;

  constructor(p: MultiLockRunParams) {
    this.#p = p;
    for (const { key, lockData, sentAt } of p.locks) {
      const ops = lockHoldOps(p.db, key, { processHash: p.identity.processHash, seq: p.seq }, p.options.lockTtlMs);
      const run = new LockRun({
        key,
        ops,
        lockData,
        identity: p.identity,
        seq: p.seq,
        sentAt,
        options: p.options,
        liveness: p.liveness,
        onLost: (error) => this.#keyLost(error),
        onError: p.onError,
      });
      this.runs.push({ key, run });
    }
    // A key whose deadline had passed already was lost while the others were still being set up.
    if (this.#lost) this.#keyLost(this.#lost);
  }

  /** The LockError of the key lost first, once any key of the set is lost. */
  get lost(): LockError | undefined {
    return this.#lost;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = (this.#controller = new AbortController());
      for (const { run } of this.runs) {
        const signal = run.signal;
        if (signal.aborted) controller.abort(this.#lost ?? signal.reason);
        else signal.addEventListener("abort", () => controller.abort(this.#lost ?? signal.reason), { once: true });
      }
      // Exact like a single lock's signal: reading it first checks every key's deadline.
      exactSignal(controller.signal, () => {
        for (const { run } of this.runs) void run.signal.aborted;
      });
    }
    return this.#controller.signal;
  }

  /** The heartbeat function handed to the user's job. */
  createHeartbeat(): MultiHeartbeat {
    const heartbeat = (() => this.heartbeat()) as MultiHeartbeat & {
      heartbeat: () => Promise<void>;
      delay: (ms: number) => Promise<void>;
      [SET_RUN]: MultiLockRun;
    };
    heartbeat.heartbeat = heartbeat;
    heartbeat.delay = (ms: number) => this.delay(ms);
    heartbeat[SET_RUN] = this;
    return Object.setPrototypeOf(heartbeat, MULTI_HEARTBEAT_PROTO) as MultiHeartbeat;
  }

  /** Heartbeats every key (their extensions and rechecks go out together); throws the first lost key's LockError. */
  async heartbeat(): Promise<void> {
    try {
      await Promise.all(this.runs.map(({ run }) => run.heartbeat()));
    } catch (error) {
      throw this.#lost ?? error;
    }
  }

  delay(ms: number): Promise<void> {
    return delayWithHeartbeats(ms, this, this.#p.liveness, this.#p.options.lockRecheckMs);
  }

  /** Loses the whole set for `reason` (the identity lapsed, the Locker was terminated). */
  lose(reason: string): void {
    const first = this.runs.find(({ run }) => !run.lost);
    first?.run.lose(new LockError(first.key, first.run.lockData.ownerHash, null, reason));
  }

  /** The job is over: every key's run stops (their signals abort with RunEndedError, later heartbeats throw it). */
  finish(): void {
    for (const { run } of this.runs) run.finish();
  }

  /** A key was lost: the first loss is the set's, and every other key of the set is lost with it. */
  #keyLost(error: LockError): void {
    if (!this.#lost) {
      this.#lost = error;
      this.#p.onLost(error);
    }
    const root = this.#lost;
    for (const { key, run } of this.runs) {
      if (!run.lost)
        run.lose(new LockError(key, run.lockData.ownerHash, null, `another key of its set, ${JSON.stringify(root.key)}, was lost: ${root.message}`));
    }
  }
}
