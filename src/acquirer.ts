import type { RedisDatabase } from "./database";
import type { DatabaseHandle } from "./database-handle";
import { LivenessError } from "./errors";
import type { HeldLocks } from "./held-locks";
import { assertLockName } from "./keys";
import type { LockData } from "./lock-data";
import { decodeLockRecord, ownLockData, ownerOf } from "./lock-record";
import { isProcessAlive } from "./lock-reads";
import { inOrderWithCalls, type Identity, type Liveness } from "./liveness";
import { describe } from "./describe-value";
import type { AcquireOutcome, Instrumentation } from "./instrumentation";
import type { ProcessIdentity } from "./process-identity";
import { identityOf, withFirstWrite } from "./first-write";
import { freeWhatMayHaveRun } from "./redis-errors";
import type { Releaser } from "./releaser";
import type { WaitUntil } from "./results";
import { LockStatus } from "./statuses";
import { monotonicNow } from "./timers";

/** What an acquisition found: the lock is ours now (with the identity and seq it is held under), or someone else's. */
export type Acquired =
  | { status: LockStatus.SUCCESS; lockData: LockData; identity: Identity; seq: string; sentAt: number }
  | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; lockData: LockData };

type Attempt =
  | { status: LockStatus.SUCCESS; lockData: LockData; sentAt: number }
  | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; lockData: LockData }
  | { status: "LAPSED" };

export interface AcquirerParams {
  database: DatabaseHandle;
  liveness: Liveness;
  identity: ProcessIdentity;
  held: HeldLocks;
  releaser: Releaser;
  /** Throws when the Locker was terminated. */
  assertOpen: () => void;
  isTerminated: () => boolean;
  /** Where acquisitions and takeovers are reported, if anywhere. */
  instrumentation?: Instrumentation;
}

/**
 * Takes locks under a live identity: 1 round trip on a free key, 2 when a
 * live process holds it, 3 when a dead holder's lock is taken over (a
 * compare-and-set on that holder, never a blind delete).
 */
export class Acquirer {
  #seq = 0;

  constructor(private readonly p: AcquirerParams) {}

  /** A seq no other hold of this Locker has (locks, multi-key sets and semaphore permits count together): two owners in one process must differ. */
  nextSeq(): string {
    return String(++this.#seq);
  }

  /**
   * Never holds a lock under an identity that is over: the Locker was
   * terminated meanwhile, or Redis lost our liveness record (a restart or
   * failover that lost data), or the record lapsed while we acquired.
   * `byRun`: the lock is for acquireAndRun()/mutex(), whose run releases it.
   */
  async acquire(key: string, trace: string | undefined, method: string, waitFlagMs: string, waitUntil: WaitUntil | undefined): Promise<Acquired> {
    assertLockName(key, method);
    if (trace !== undefined && typeof trace !== "string") {
      throw new TypeError(`pulselock: ${method}() takes a trace string, got ${describe(trace)}`);
    }
    this.p.assertOpen();
    this.p.held.acquireStarted();
    // Timed here rather than by a wrapper: no promise of its own, and no clock read without instrumentation.
    const instrumentation = this.p.instrumentation;
    const timed = !!instrumentation && (instrumentation.timesAcquisitions?.() ?? true);
    const startedAt = timed ? monotonicNow() : 0;
    let outcome: AcquireOutcome = "error";
    try {
      // Known values are not awaited: each await costs a promise and a microtask on every acquire.
      const db = this.p.database.known ?? (await this.p.database.get());
      const seq = this.nextSeq();
      for (let attempt = 0; ; attempt++) {
        const next = this.p.identity.live(inOrderWithCalls(this.p.liveness, db));
        const known = identityOf(next);
        const identity = known instanceof Promise ? await known : known;
        const res = await withFirstWrite<Attempt>(
          next,
          (before) => this.#try(db, key, identity, seq, trace, waitFlagMs, before),
          async () => void (await this.p.releaser.quietly({ key, processHash: identity.processHash, seq, trace })),
        );
        if (res.status === LockStatus.SOMEONE_ELSE_HOLDS_LOCK) {
          outcome = "held";
          return res;
        }
        if (res.status === LockStatus.SUCCESS) {
          if (!this.p.isTerminated() && this.p.identity.isAlive(identity)) {
            try {
              if (db.waitForReplicas > 0) await db.replicated("acquire", db.lockKey(key));
            } catch (error) {
              // Not on enough replicas: a failover could lose it, so it does not count as held.
              await this.p.releaser.quietly({ key, processHash: identity.processHash, seq, trace });
              throw error;
            }
            this.p.held.hold(res.lockData.ownerHash, { key, owner: { processHash: identity.processHash, seq } }, method !== "acquire", waitUntil);
            outcome = "acquired";
            return { status: LockStatus.SUCCESS, lockData: res.lockData, sentAt: res.sentAt, identity, seq };
          }
          await this.p.releaser.quietly({ key, processHash: identity.processHash, seq, trace });
        }
        this.p.assertOpen();
        this.p.identity.lapse(identity.generation, "this process's liveness record was lost or lapsed");
        if (attempt) throw new LivenessError("pulselock: this process's liveness record vanished again right after it was written");
      }
    } finally {
      this.p.held.acquireEnded(waitUntil);
      if (timed) instrumentation!.acquired(outcome, monotonicNow() - startedAt);
    }
  }

  /** One acquisition attempt under `identity`; "LAPSED" when Redis has no liveness record for it. `before`: sends the identity's first write ahead of the call. */
  async #try(
    db: RedisDatabase,
    key: string,
    identity: Identity,
    seq: string,
    trace: string | undefined,
    waitFlagMs: string,
    before?: () => void,
  ): Promise<Attempt> {
    const redisKey = db.lockKey(key);
    const owner = { key, processHash: identity.processHash, seq, trace };
    const batches = this.p.database.batches(db);
    let victim: { processHash: string; seq: string } | undefined;
    for (;;) {
      const sentAt = this.p.liveness.now();
      let res;
      try {
        res = await batches.acquire({ redisKey, processHash: identity.processHash, seq, trace, victim, waitFlagMs }, { before });
      } catch (error) {
        // The script may have run although no reply says so (a reply of a shape we do not know, a timeout, a
        // dropped connection), so the lock may have been written: free it rather than leave it held for lockTtlMs
        // (a compare-and-delete on our own seq, harmless if it was not; bounded like every release). Best effort: over
        // HTTP the release may overtake a delayed acquire. Awaited, so a caller that retries at once finds it done.
        await freeWhatMayHaveRun(error, () => this.p.releaser.quietly(owner));
        throw error;
      }
      if (res.kind === "lapsed") return { status: "LAPSED" };
      if (victim && res.kind === "taken") this.p.instrumentation?.tookOver();
      if (res.kind === "taken") return { status: LockStatus.SUCCESS, lockData: ownLockData(owner, res.token, res.ms), sentAt };
      const lockData = decodeLockRecord(key, redisKey, res.record);
      // Our own record under this very seq: the call ran twice (a client resent it after a reconnect), and the first took the lock.
      if (lockData.processHash === identity.processHash && ownerOf(key, lockData.ownerHash)?.seq === seq) {
        return { status: LockStatus.SUCCESS, lockData, sentAt };
      }
      // Held: ours, or a live process's, or (once) a dead holder's that we try to take over.
      if (victim || lockData.processHash === identity.processHash || (await isProcessAlive(db, lockData.processHash))) {
        return { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData };
      }
      victim = { processHash: lockData.processHash, seq: ownerOf(key, lockData.ownerHash)!.seq };
    }
  }
}
