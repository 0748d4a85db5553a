import type { RedisDatabase } from "./database";
import { LockError } from "./errors";
import type { Identity, Liveness } from "./liveness";
import type { LockData } from "./lock-data";
import { lockHoldOps } from "./lock-ops";
import { LockRun, heartbeatCallLoss, type HoldOps } from "./lock-run";
import type { TakenKey } from "./multi-lock-acquirer";
import type { MultiHeartbeat } from "./multi-lock-types";
import type { ResolvedOptions } from "./options";
import type { ExtendResult } from "./results";
import { LockStatus } from "./statuses";

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
      return this[SET_RUN].run.signal;
    },
  },
  lockData: {
    get(this: { [SET_RUN]: MultiLockRun }) {
      const set = this[SET_RUN];
      return new Map<string, LockData>(set.keys.map((key, i) => [key, set.lockData[i]!]));
    },
    enumerable: true,
  },
});

/**
 * The life of a held set inside acquireAllAndRun(): one LockRun for the whole
 * set, whose HoldOps extend and recheck every key (docs/decisions.md,
 * "Multi-key locks"). Its self-fencing deadline counts from the earliest send
 * time of the calls that took the keys (on a cluster an earlier slot group's),
 * and an extension moves it only when every key was extended: so the set
 * stops no later than its earliest single-key deadline. The first key found
 * lost loses the run with that key's LockError: the signal aborts with it, and
 * every later heartbeat throws it. The caller then releases every key.
 */
export class MultiLockRun implements HoldOps {
  /** The set's keys, in the caller's order. */
  readonly keys: string[];
  /** Each key's current record (moved by extensions), in the order of `keys`. */
  readonly lockData: LockData[];
  readonly run: LockRun;
  readonly #p: MultiLockRunParams;
  /** Each key's extend and recheck, made on the first heartbeat that calls Redis: most jobs end before one does. */
  #ops: HoldOps[] | undefined;

  constructor(p: MultiLockRunParams) {
    this.#p = p;
    const { locks } = p;
    this.keys = locks.map((lock) => lock.key);
    this.lockData = locks.map((lock) => lock.lockData);
    let sentAt = Infinity;
    for (const lock of locks) if (lock.sentAt < sentAt) sentAt = lock.sentAt;
    this.run = new LockRun({
      key: this.keys[0]!,
      ops: this,
      lockData: this.lockData[0]!,
      identity: p.identity,
      seq: p.seq,
      sentAt,
      options: p.options,
      liveness: p.liveness,
      onLost: p.onLost,
      onError: p.onError,
    });
  }

  /** The LockError of the key lost first, once any key of the set is lost. */
  get lost(): LockError | undefined {
    return this.run.lost;
  }

  /** The heartbeat function handed to the user's job. */
  createHeartbeat(): MultiHeartbeat {
    const run = this.run;
    const heartbeat = (() => run.heartbeat()) as MultiHeartbeat & {
      heartbeat: () => Promise<void>;
      delay: (ms: number) => Promise<void>;
      [SET_RUN]: MultiLockRun;
    };
    heartbeat.heartbeat = heartbeat;
    heartbeat.delay = (ms: number) => run.delay(ms);
    heartbeat[SET_RUN] = this;
    return Object.setPrototypeOf(heartbeat, MULTI_HEARTBEAT_PROTO) as MultiHeartbeat;
  }

  /** Loses the whole set for `reason` (the identity lapsed, the Locker was terminated). */
  lose(reason: string): void {
    this.run.lose(new LockError(this.keys[0]!, this.lockData[0]!.ownerHash, null, reason));
  }

  /** The job is over (LockRun.finish()): the signal aborts with RunEndedError, later heartbeats throw it. */
  finish(): void {
    this.run.finish();
  }

  /** Whether `at` came before the set's self-fencing deadline: nobody else could hold any of its keys yet. */
  heldAt(at: number): boolean {
    return this.run.heldAt(at);
  }

  /** HoldOps: every key extended at once; SUCCESS with the first key's record only when every key's is. */
  async extend(): Promise<ExtendResult> {
    await this.#eachKey("extend", (ops, i) =>
      ops.extend().then((result) => {
        if (result.status !== LockStatus.SUCCESS) throw new LockError(this.keys[i]!, this.lockData[i]!.ownerHash, result.lockData);
        this.lockData[i] = result.lockData;
      }),
    );
    return { status: LockStatus.SUCCESS, lockData: this.lockData[0]! };
  }

  /** HoldOps: the first key's record while the set still holds every key. */
  async holder(): Promise<LockData | null> {
    await this.#eachKey("recheck", (ops, i) =>
      ops.holder().then((holder) => {
        if (holder?.ownerHash !== this.lockData[i]!.ownerHash) throw new LockError(this.keys[i]!, this.lockData[i]!.ownerHash, holder);
      }),
    );
    return this.lockData[0]!;
  }

  /**
   * `call` on every key at once, each settled. A key found lost (its own LockError, or a record overwritten or a
   * command refused on it) makes the set's call throw that key's LockError, which the run loses with; else the
   * first failure (transient) is thrown, which the run reports and leaves to its deadline.
   */
  async #eachKey(what: string, call: (ops: HoldOps, i: number) => Promise<void>): Promise<void> {
    const { db, identity, seq, options } = this.#p;
    const owner = { processHash: identity.processHash, seq };
    this.#ops ??= this.keys.map((key) => lockHoldOps(db, key, owner, options.lockTtlMs));
    const settled = await Promise.allSettled(this.#ops.map(call));
    let failure: { error: unknown } | undefined;
    for (let i = 0; i < settled.length; i++) {
      const outcome = settled[i]!;
      if (outcome.status === "fulfilled") continue;
      const lost = heartbeatCallLoss(what, outcome.reason, this.keys[i]!, this.lockData[i]!.ownerHash);
      if (lost) throw lost;
      failure ??= { error: outcome.reason };
    }
    if (failure) throw failure.error;
  }
}
