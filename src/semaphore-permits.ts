import type { Acquirer } from "./acquirer";
import type { RedisDatabase } from "./database";
import type { DatabaseHandle } from "./database-handle";
import { LivenessError } from "./errors";
import type { Heartbeat } from "./heartbeater";
import type { HeldLocks } from "./held-locks";
import type { Hold, Job, JobRunner } from "./job-runner";
import type { HoldOps } from "./lock-run";
import type { LockData } from "./lock-data";
import { ownLockData, ownerOf, type OwnerParts } from "./lock-record";
import { isProcessAlive } from "./lock-reads";
import { inOrderWithCalls, type Identity, type Liveness } from "./liveness";
import { describe } from "./describe-value";
import type { MutexCall, MutexWaiter } from "./mutex-waiter";
import type { ProcessIdentity } from "./process-identity";
import { identityOf, withFirstWrite } from "./first-write";
import { freeWhatMayHaveRun } from "./redis-errors";
import type { Releaser } from "./releaser";
import type { ExtendResult, ReleaseResult, RunResult, WaitUntil } from "./results";
import { SemaphoreBatches } from "./semaphore-batches";
import { SEMAPHORE_EXTEND, decodeSemaphoreExtendReply } from "./scripts/semaphore-extend";
import { SEMAPHORE_READ, decodeSemaphoreReadReply } from "./scripts/semaphore-read";
import { semaphoreReleaseResult } from "./scripts/semaphore-release";
import { decodePermit, permitField } from "./semaphore-record";
import { semaphoreKey } from "./keys";
import { LockStatus } from "./statuses";
import { waitFlagKey } from "./wait-flag-key";

/** Every permit of the semaphore is held by a live process: `holders` are their records, oldest token first. */
export interface PermitRefused {
  status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK;
  holders: LockData[];
}

/** One semaphore: its name and the limit this caller takes a permit under. */
export interface SemaphoreRef {
  key: string;
  limit: number;
}

export interface PermitsParams {
  database: DatabaseHandle;
  liveness: Liveness;
  identity: ProcessIdentity;
  held: HeldLocks;
  acquirer: Acquirer;
  releaser: Releaser;
  runner: JobRunner;
  waiter: MutexWaiter;
  lockTtlMs: number;
  lockRecheckMs: number;
  /** Batches hold one request's calls only (Cloudflare Workers): see Batcher. */
  requestScoped: boolean;
  assertOpen: () => void;
  isTerminated: () => boolean;
  /** A quiet release's failure. */
  onError: (error: unknown) => void;
}

type Attempt = { status: LockStatus.SUCCESS; lockData: LockData; sentAt: number } | PermitRefused | { status: "LAPSED" };

/**
 * Held permits are listed in HeldLocks under this key, which no lock name can be (names are non-empty): they
 * keep liveness and waitUntil alive like a lock, and Locker.release() never mistakes one for a lock.
 */
const NOT_A_LOCK_NAME = "";

const byToken = (a: LockData, b: LockData) => a.fencingToken - b.fencingToken;
const NO_VICTIMS: readonly string[] = Object.freeze([]);
/** A release's `heldAt` for a permit no run holds. */
const NOT_HELD = () => false;

/**
 * Semaphore permits (src/semaphore-record.ts has the layout, src/scripts/semaphore-*.ts the protocol): taken
 * under this process's live identity like a lock, 1 round trip when a permit is free, 2 when live processes hold
 * them all, 3 when dead holders' permits are taken over (an HDEL of exactly their fields). A held permit is a
 * {@link Hold}, so acquireAndRun() runs it through the JobRunner with a lock's heartbeats, self-fencing and release.
 */
export class Permits {
  /** Permits taken by acquire() (not by a run), by owner hash: what the semaphore's release() may free. */
  readonly #own = new Map<string, Hold>();
  #batches: SemaphoreBatches | undefined;

  constructor(private readonly p: PermitsParams) {}

  /** Runs `fn` under one permit, or answers that all are held. */
  run<T>(
    sem: SemaphoreRef,
    fn: Job<T>,
    trace: string | undefined,
    waitFlagMs: string,
    waitUntil: WaitUntil | undefined,
  ): Promise<Extract<RunResult<T>, { status: LockStatus.SUCCESS }> | PermitRefused> {
    return this.p.runner.runHolding(() => this.acquire(sem, trace, "acquireAndRun", waitFlagMs, waitUntil, true), fn, waitUntil);
  }

  /** Waits for a permit (mutex()'s waiting: backoff, wake-ups on release, timeout, signal), then runs `fn` under it. */
  wait<T>(sem: SemaphoreRef, call: MutexCall, fn: (heartbeat: Heartbeat) => Promise<T> | T, waitUntil: WaitUntil | undefined): Promise<T> {
    return this.p.waiter.wait(
      (db) => {
        const redisKey = semaphoreKey(db.prefix, sem.key);
        return [{ channel: db.transport.clientKeyPrefix + redisKey, flagKey: waitFlagKey(redisKey) }];
      },
      call,
      waitUntil,
      async (flagMs, taken) => {
        const job = (heartbeat: Heartbeat) => {
          taken();
          return fn(heartbeat);
        };
        const res = await this.run(sem, job, call.options.trace, flagMs, waitUntil);
        return res.status === LockStatus.SUCCESS ? res : { status: res.status, key: sem.key, lockData: res.holders[0] ?? null };
      },
    );
  }

  /**
   * Takes a permit under a live identity, never under one that is over (terminated, or lapsed meanwhile).
   * `byRun`: for acquireAndRun()/waitAndRun(), whose run releases it.
   */
  async acquire(
    sem: SemaphoreRef,
    trace: string | undefined,
    method: string,
    waitFlagMs: string,
    waitUntil: WaitUntil | undefined,
    byRun: boolean,
  ): Promise<Hold | PermitRefused> {
    if (trace !== undefined && typeof trace !== "string") throw new TypeError(`pulselock: ${method}() takes a trace string, got ${describe(trace)}`);
    this.p.assertOpen();
    this.p.held.acquireStarted();
    try {
      // Known values are not awaited: each await costs a promise and a microtask on every acquire.
      const db = this.p.database.known ?? (await this.p.database.get());
      const redisKey = semaphoreKey(db.prefix, sem.key);
      const seq = this.p.acquirer.nextSeq();
      for (let attempt = 0; ; attempt++) {
        // A new identity's first write goes out with the permit's call where they travel in order (one HTTP request).
        const next = this.p.identity.live(inOrderWithCalls(this.p.liveness, db));
        const known = identityOf(next);
        const identity = known instanceof Promise ? await known : known;
        const owner: OwnerParts = { key: sem.key, processHash: identity.processHash, seq, trace };
        const res = await withFirstWrite<Attempt>(
          next,
          (before) => this.#try(db, redisKey, owner, sem.limit, waitFlagMs, before),
          () => this.#quietly(db, redisKey, owner),
        );
        if (res.status === LockStatus.SOMEONE_ELSE_HOLDS_LOCK) return res;
        if (res.status === LockStatus.SUCCESS) {
          if (!this.p.isTerminated() && this.p.identity.isAlive(identity)) {
            try {
              if (db.waitForReplicas > 0) await db.replicated("semaphore-acquire", redisKey);
            } catch (error) {
              await this.#quietly(db, redisKey, owner);
              throw error;
            }
            this.p.held.hold(res.lockData.ownerHash, { key: NOT_A_LOCK_NAME, owner }, byRun, waitUntil);
            return new PermitHold(this, db, redisKey, owner, identity, res.lockData, res.sentAt);
          }
          await this.#quietly(db, redisKey, owner);
        }
        this.p.assertOpen();
        this.p.identity.lapse(identity.generation, "this process's liveness record was lost or lapsed");
        if (attempt) throw new LivenessError("pulselock: this process's liveness record vanished again right after it was written");
      }
    } finally {
      this.p.held.acquireEnded(waitUntil);
    }
  }

  /** acquire() of the Semaphore: the permit stays this Locker's until release() frees it (or it expires). */
  async acquireOwn(sem: SemaphoreRef, trace: string | undefined, waitUntil: WaitUntil | undefined): Promise<Hold | PermitRefused> {
    const res = await this.acquire(sem, trace, "acquire", "", waitUntil, false);
    if (res.status === LockStatus.SUCCESS) this.#own.set(res.lockData.ownerHash, res);
    return res;
  }

  /** Extends a permit that acquire() took; a lapsed identity has lost it (others may have taken it over). */
  extendOwn(hold: Hold): Promise<ExtendResult> {
    if (!this.p.identity.isAlive(hold.identity)) return Promise.resolve({ status: LockStatus.NO_KEY, lockData: null });
    return hold.ops.extend();
  }

  /**
   * Frees a permit that acquire() took. Any other lockData frees nothing: SOMEONE_ELSE_HOLDS_LOCK with that holder
   * while it holds a permit, NO_KEY for a permit of this semaphore that is gone. A permit held by a running
   * acquireAndRun() or waitAndRun() is its run's to release: a TypeError.
   */
  async release(key: string, lockData: LockData): Promise<ReleaseResult> {
    if (typeof lockData !== "object" || lockData === null || typeof lockData.ownerHash !== "string") {
      throw new TypeError(`pulselock: release() needs the lockData that acquire() returned, got ${describe(lockData)}`);
    }
    const hold = this.#own.get(lockData.ownerHash);
    if (!hold || hold.key !== key) {
      const held = this.p.held.find(lockData.ownerHash);
      if (held && "byRun" in held && held.byRun && ownerOf(key, lockData.ownerHash)) {
        throw new TypeError(
          `pulselock: release() refused: the permit of ${JSON.stringify(key)} (${lockData.ownerHash}) belongs to an acquireAndRun() or waitAndRun(), which releases it when its function returns`,
        );
      }
      const found = (await this.readAll(key)).find((h) => h.ownerHash === lockData.ownerHash);
      if (found) return { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: found };
      return ownerOf(key, lockData.ownerHash) ? { status: LockStatus.NO_KEY, lockData: null } : { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData };
    }
    try {
      const res = await hold.release(Infinity, NOT_HELD);
      this.#own.delete(lockData.ownerHash);
      return res;
    } finally {
      this.p.held.forget(lockData.ownerHash);
    }
  }

  /** The permits held by live processes, oldest token first: a snapshot, stale as soon as it returns. */
  async readHolders(key: string): Promise<LockData[]> {
    const db = await this.p.database.get();
    const all = await this.readAll(key);
    const processes = [...new Set(all.map((h) => h.processHash))];
    const alive = new Set((await Promise.all(processes.map(async (p) => ((await isProcessAlive(db, p)) ? p : "")))).filter(Boolean));
    return all.filter((h) => alive.has(h.processHash));
  }

  /** Every unexpired permit, live holder or dead. */
  async readAll(key: string): Promise<LockData[]> {
    const db = await this.p.database.get();
    const redisKey = semaphoreKey(db.prefix, key);
    const raw = decodeSemaphoreReadReply(await db.run(SEMAPHORE_READ, [redisKey], []));
    return raw.map((value) => decodePermit(key, redisKey, value)).sort(byToken);
  }

  /** One try for a permit; a full semaphore whose holders include dead processes is tried once more, taking theirs over. */
  async #try(db: RedisDatabase, redisKey: string, owner: OwnerParts, limit: number, waitFlagMs: string, before?: () => void): Promise<Attempt> {
    let victims: readonly string[] = NO_VICTIMS;
    for (;;) {
      const sentAt = this.p.liveness.now();
      let reply;
      try {
        reply = await this.#batchesOf(db).acquire({ redisKey, owner, limit, waitFlagMs, victims }, before && { before });
      } catch (error) {
        // The script may have run without a reply saying so: free what it may have taken (harmless if it did not).
        await freeWhatMayHaveRun(error, () => this.#quietly(db, redisKey, owner));
        throw error;
      }
      if (reply.kind === "lapsed") return { status: "LAPSED" };
      if (reply.kind === "taken") return { status: LockStatus.SUCCESS, lockData: ownLockData(owner, reply.token, reply.ms), sentAt };
      const holders = reply.permits.map((value) => decodePermit(owner.key, redisKey, value)).sort(byToken);
      const refused: PermitRefused = { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, holders };
      if (victims.length > 0) return refused;
      const others = [...new Set(holders.map((h) => h.processHash))].filter((p) => p !== owner.processHash);
      const alive = await Promise.all(others.map((p) => isProcessAlive(db, p)));
      const dead = new Set(others.filter((_, i) => !alive[i]));
      victims = holders.filter((h) => dead.has(h.processHash)).map((h) => permitField(ownerOf(owner.key, h.ownerHash)!));
      if (victims.length === 0) return refused;
    }
  }

  /** The Locker's lockTtlMs: what an extension adds to a permit. */
  get lockTtlMs(): number {
    return this.p.lockTtlMs;
  }

  /** Frees the permit at `field` of the semaphore at `redisKey` (see Releaser.retrying for `attempts`, `heldAt` and `onSent`). */
  releasePermit(
    db: RedisDatabase,
    redisKey: string,
    field: string,
    attempts: number,
    heldAt: (at: number) => boolean,
    onSent?: () => void,
  ): Promise<ReleaseResult> {
    const batches = this.#batchesOf(db);
    return this.p.releaser.retrying(
      "semaphore-release",
      (first) => batches.release({ redisKey, field }, first ? onSent : undefined),
      (reply) => semaphoreReleaseResult(redisKey, reply),
      attempts,
      heldAt,
    );
  }

  #batchesOf(db: RedisDatabase): SemaphoreBatches {
    return (this.#batches ??= new SemaphoreBatches(db, {
      lockTtlMs: this.p.lockTtlMs,
      lockRecheckMs: this.p.lockRecheckMs,
      requestScoped: this.p.requestScoped,
      stop: this.p.database.ended,
    }));
  }

  /** One try to free a permit we may have written but do not hold; a failure leaves it to expire (lockTtlMs). */
  async #quietly(db: RedisDatabase, redisKey: string, owner: OwnerParts): Promise<void> {
    await this.releasePermit(db, redisKey, permitField(owner), 1, NOT_HELD).catch(this.p.onError);
  }
}

/**
 * A held permit as the JobRunner runs it (a {@link Hold}): extended and rechecked by its own field, freed by an HDEL
 * of it. A class rather than closures: one object per permit, which every acquire makes.
 */
class PermitHold implements Hold {
  readonly status = LockStatus.SUCCESS;
  readonly key: string;
  readonly seq: string;
  readonly ops: HoldOps = this;
  readonly #field: string;

  constructor(
    private readonly permits: Permits,
    private readonly db: RedisDatabase,
    private readonly redisKey: string,
    owner: OwnerParts,
    readonly identity: Identity,
    readonly lockData: LockData,
    readonly sentAt: number,
  ) {
    this.key = owner.key;
    this.seq = owner.seq;
    this.#field = permitField(owner);
  }

  async extend(): Promise<ExtendResult> {
    const { db, redisKey } = this;
    const reply = await db.run(SEMAPHORE_EXTEND, [redisKey], [this.#field, String(this.permits.lockTtlMs)]);
    const result = decodeSemaphoreExtendReply(this.key, redisKey, reply);
    if (result.status === LockStatus.SUCCESS) await db.replicated("semaphore-extend", redisKey);
    return result;
  }

  async holder(): Promise<LockData | null> {
    const [raw] = decodeSemaphoreReadReply(await this.db.run(SEMAPHORE_READ, [this.redisKey], [this.#field]));
    return raw === undefined ? null : decodePermit(this.key, this.redisKey, raw);
  }

  release(attempts: number, heldAt: (sentAt: number) => boolean, onSent?: () => void): Promise<ReleaseResult> {
    return this.permits.releasePermit(this.db, this.redisKey, this.#field, attempts, heldAt, onSent);
  }
}
