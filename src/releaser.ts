import { backoffMs } from "./backoff";
import type { RedisDatabase } from "./database";
import type { DatabaseHandle } from "./database-handle";
import { DEFAULTS } from "./defaults";
import type { HeldLocks } from "./held-locks";
import { formatOwnerHash, type Owner, type OwnerParts } from "./lock-record";
import type { Liveness } from "./liveness";
import { releaseResult } from "./scripts/release";
import { toRedisCommandError } from "./redis-errors";
import type { ReleaseResult } from "./results";
import { LockStatus } from "./statuses";
import { setTimer, sleep, unrefTimer } from "./timers";
import { isRedisCommandError } from "./errors";

/** A pause that does not keep the process alive. */
const pauseUnref = (ms: number): Promise<void> => new Promise((resolve) => unrefTimer(setTimer(resolve, ms)));

/** When a release started, on the liveness clock, and whether the lock was still certainly ours then. */
interface ReleaseStart {
  at: number;
  ours: boolean;
}

export interface ReleaserParams {
  database: DatabaseHandle;
  liveness: Liveness;
  held: HeldLocks;
  lockTtlMs: number;
  lockRecheckMs: number;
  /** A transient error that a retry may still get past, or a quiet release's failure. */
  onError: (error: unknown) => void;
}

/**
 * Frees locks this Locker wrote: a compare-and-delete on the owner's process
 * hash and seq, so a retry, or a release that lands late, never frees
 * anybody else's lock. Transient errors are retried until lockTtlMs, when the
 * lock has expired anyway.
 */
export class Releaser {
  constructor(private readonly p: ReleaserParams) {}

  /**
   * Releases with retries of transient errors: `attempts` of them, or until lockTtlMs has passed. When `heldAt`
   * says the lock was still certainly ours as the first try left, a retry that finds it gone or taken is a SUCCESS:
   * the first try may have deleted it before its reply was lost. `onSent` runs right after the first try was
   * handed to the transport, so that what it sends follows the release in the same request.
   */
  async release(key: string, owner: Owner, attempts: number, heldAt?: (sentAt: number) => boolean, onSent?: () => void): Promise<ReleaseResult> {
    const db = this.p.database.known ?? (await this.p.database.get());
    return this.#releaseKey(db, key, owner, attempts, this.#startOf(heldAt), onSent);
  }

  /**
   * Releases the locks of a set (`keys`, one owner), each as {@link release} releases one, from one start: their
   * first tries leave together (one script call on a single Redis). `onSent(i)` runs once key i's first try was
   * handed to the transport. Resolves with one outcome per key, in the order of `keys`.
   */
  async releaseAll(
    keys: readonly string[],
    owner: Owner,
    attempts: number,
    heldAt: (sentAt: number) => boolean,
    onSent?: (index: number) => void,
  ): Promise<PromiseSettledResult<ReleaseResult>[]> {
    const db = this.p.database.known ?? (await this.p.database.get());
    const start = this.#startOf(heldAt);
    // On a cluster the keys' slots differ, so each goes in a batch of its own.
    if (keys.length < 2 || db.transport.isCluster) {
      return Promise.allSettled(keys.map((key, i) => this.#releaseKey(db, key, owner, attempts, start, onSent && (() => onSent(i)))));
    }
    // The first tries as one entry of a release batch: one promise for the set, not one per key.
    const batches = this.p.database.batches(db);
    const requests = keys.map((key) => ({ key, redisKey: db.lockKey(key), owner }));
    const sent = onSent && { after: () => keys.forEach((_, i) => onSent(i)) };
    let answers: unknown[] | undefined;
    let failure: unknown;
    try {
      answers = await batches.releaseSet(requests, sent);
    } catch (error) {
      failure = error;
    }
    return Promise.allSettled(
      requests.map(async (request, i) => {
        const decode = (reply: unknown) => releaseResult(request.key, request.redisKey, reply);
        const answer = answers ? answers[i] : failure;
        if (answers && !(answer instanceof Error)) return decode(answer);
        // Its first try failed (it counts as the first of its tries): the retries go on alone, as release() makes them.
        return this.#tries("release", (first) => (first ? Promise.reject(answer) : batches.release(request)), decode, attempts, start);
      }),
    );
  }

  /**
   * The retries of any release (a lock's, a semaphore permit's): `send` makes one try (`first` for the first),
   * `decode` reads its reply outside the retries (a reply that cannot be read is not transient).
   */
  retrying(
    operation: string,
    send: (first: boolean) => Promise<unknown>,
    decode: (reply: unknown) => ReleaseResult,
    attempts: number,
    heldAt?: (sentAt: number) => boolean,
  ): Promise<ReleaseResult> {
    return this.#tries(operation, send, decode, attempts, this.#startOf(heldAt));
  }

  /** When a release starts, and whether the lock was still certainly ours then (see {@link release}). */
  #startOf(heldAt: ((sentAt: number) => boolean) | undefined): ReleaseStart {
    const at = this.p.liveness.now();
    return { at, ours: heldAt?.(at) ?? false };
  }

  /** One lock's compare-and-delete, through the release batches, with the retries of {@link release}. */
  #releaseKey(
    db: RedisDatabase,
    key: string,
    owner: Owner,
    attempts: number,
    start: ReleaseStart,
    onSent: (() => void) | undefined,
    pause?: (ms: number) => Promise<void>,
  ): Promise<ReleaseResult> {
    const redisKey = db.lockKey(key);
    const request = { key, redisKey, owner };
    const batches = this.p.database.batches(db);
    return this.#tries(
      "release",
      (first) => batches.release(request, first ? { after: onSent } : undefined),
      (reply) => releaseResult(key, redisKey, reply),
      attempts,
      start,
      pause,
    );
  }

  /** `pause` waits between tries: `sleep` for a caller that awaits the release, an unref'd timer in the background. */
  async #tries(
    operation: string,
    send: (first: boolean) => Promise<unknown>,
    decode: (reply: unknown) => ReleaseResult,
    attempts: number,
    start: ReleaseStart,
    pause: (ms: number) => Promise<void> = sleep,
  ): Promise<ReleaseResult> {
    for (let attempt = 0; ; attempt++) {
      let reply: unknown;
      try {
        // Bounded: a release that times out and lands later is harmless (it is a compare-and-delete).
        reply = await send(attempt === 0);
      } catch (error) {
        const e = toRedisCommandError(operation, error);
        if (!e.transient || attempt + 1 >= attempts || this.p.liveness.now() - start.at >= this.p.lockTtlMs) throw e;
        this.p.onError(e);
        await pause(backoffMs(attempt, DEFAULTS.mutexRecheckMs, this.p.lockRecheckMs));
        continue;
      }
      // Decoded outside the retries: a reply that is not a release's answer, or a corrupt record, is not transient.
      const result = decode(reply);
      if (attempt > 0 && result.status !== LockStatus.SUCCESS && start.ours) return { status: LockStatus.SUCCESS, lockData: null };
      return result;
    }
  }

  /**
   * Frees a lock we may have written but do not hold (an acquire whose reply was lost, say), for a caller that is
   * told it failed: that caller must not find the lock held for lockTtlMs under our live identity. One try is
   * awaited, so that a caller that retries at once finds it done. Should it fail, the lock stays releasable by its
   * lockData (a refusal shows it), and a transient failure is retried in the background until the lock is freed or
   * has expired; those retries do not keep a process alive (one that exits leaves the lock to takeover).
   */
  quietly(owner: OwnerParts): Promise<unknown> {
    return this.release(owner.key, owner, 1).catch((error: unknown) => {
      const ownerHash = formatOwnerHash(owner);
      this.p.held.orphaned(ownerHash, { key: owner.key, owner });
      this.p.onError(error);
      if (!isRedisCommandError(error) || !error.transient) return;
      void (async () => {
        const db = this.p.database.known ?? (await this.p.database.get());
        await pauseUnref(backoffMs(0, DEFAULTS.mutexRecheckMs, this.p.lockRecheckMs));
        await this.#releaseKey(db, owner.key, owner, Infinity, this.#startOf(undefined), undefined, pauseUnref);
        // Freed, or gone, or someone else's by now: not ours to release any more.
        this.p.held.unorphan(ownerHash);
      })().catch(() => {}); // past lockTtlMs, or refused: it expires (each transient failure was reported)
    });
  }
}
