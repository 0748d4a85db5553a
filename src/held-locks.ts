import { LivenessError } from "./errors";
import type { Owner } from "./lock-record";
import type { Liveness } from "./liveness";
import type { WaitUntil } from "./results";
import { withTimeout } from "./timers";

const noop = (): void => {};

/** What release() needs to free a lock that this Locker took. */
export interface OwnLock {
  key: string;
  owner: Owner;
}

/** A lock this Locker acquired and has not released yet. */
export interface HeldLock extends OwnLock {
  /** Taken by acquireAndRun()/mutex(): release() must not pull the lock from under its run. */
  byRun: boolean;
  /** Resolves the lock's waitUntil promise and stops its liveness beat (where liveness beats per request). */
  end: () => void;
  /** The waitUntil of the call that took it (or the Locker's), for the idle delete after it. */
  waitUntil: WaitUntil | undefined;
}

export interface HeldLocksParams {
  liveness: Liveness;
  lockTtlMs: number;
  /** Bounds the idle delete of the liveness record. */
  lockRecheckMs: number;
  /** The Locker's own waitUntil, for what no call's waitUntil covers. */
  waitUntil: WaitUntil | undefined;
  /** A failed idle delete of the liveness record. */
  onLivenessError: (error: unknown) => void;
}

/**
 * The locks this Locker holds, and what holding one keeps alive: the
 * request's waitUntil promise, a per-request liveness beat, and liveness at
 * all (it rests when nothing is held or being acquired). release() frees only
 * what is listed here.
 */
export class HeldLocks {
  /** By owner hash. */
  readonly #held = new Map<string, HeldLock>();
  /**
   * Locks that may still be ours although no call holds them: a release that failed, an acquire whose reply was
   * lost. They keep nothing alive (no liveness, no waitUntil), yet release() can still free them with the
   * lockData that a refusal or readLockData() shows; forgotten after lockTtlMs, when they have expired anyway.
   */
  readonly #orphans = new Map<string, OwnLock & { until: number }>();
  /** Owner hashes of held locks whose release is out: they no longer keep liveness from resting. */
  readonly #releasing = new Set<string>();
  /** Acquisitions on their way: liveness must not go idle under them. */
  #acquiring = 0;

  constructor(private readonly p: HeldLocksParams) {}

  /** An acquisition starts: liveness must not rest until it ends ({@link acquireEnded}). */
  acquireStarted(): void {
    this.#acquiring++;
  }

  acquireEnded(waitUntil: WaitUntil | undefined): void {
    this.#acquiring--;
    this.#goIdleIfUnused(waitUntil);
  }

  /**
   * A lock is held until forget(): on runtimes with waitUntil, the isolate is kept alive that long, and where
   * liveness is written from the holders' own timers (request contexts), this call's beat keeps it fresh.
   */
  hold(ownerHash: string, own: OwnLock, byRun: boolean, waitUntil: WaitUntil | undefined): void {
    this.#held.set(ownerHash, { key: own.key, owner: own.owner, byRun, end: this.#ender(waitUntil), waitUntil });
  }

  /**
   * What ends one held lock: lets its waitUntil promise settle and stops the liveness beats it keeps. Once only:
   * terminate() ends every lock, and a later release() of an acquire() lock forgets it again. Nothing to end (no
   * isolate to keep alive, liveness written by its own thread) is one shared no-op, not a closure per lock.
   */
  #ender(waitUntil: WaitUntil | undefined): () => void {
    if (!waitUntil && !this.p.liveness.keepWriting) return noop;
    let release = noop;
    waitUntil?.(new Promise<void>((resolve) => (release = resolve)));
    const stopWriting = this.p.liveness.keepWriting?.(waitUntil) ?? noop;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      stopWriting();
      release();
    };
  }

  /**
   * The release of a held lock has just been handed to the transport: when nothing else is held or being
   * acquired, liveness rests now, so that the delete of its record follows the release in the same request
   * (an HTTP transport sends both together, in order). Should the release fail and be retried, the lock has no
   * live holder meanwhile, and others may take it: its job is over.
   */
  releasing(ownerHash: string): void {
    const held = this.#held.get(ownerHash);
    if (!held) return;
    this.#releasing.add(ownerHash);
    this.#goIdleIfUnused(held.waitUntil ?? this.p.waitUntil);
  }

  /**
   * A lock is no longer held: let liveness rest when nothing is held, then resolve the lock's waitUntil promise
   * (the delete of the liveness record has its own by then).
   */
  forget(ownerHash: string): void {
    const held = this.#held.get(ownerHash);
    this.#held.delete(ownerHash);
    // Idle already if it was the last one being released (a second idle() finds nothing to delete).
    this.#releasing.delete(ownerHash);
    this.#goIdleIfUnused(held?.waitUntil ?? this.p.waitUntil);
    held?.end();
  }

  /** How many locks this Locker holds now (instrumentation reads it when metrics are collected). */
  get size(): number {
    return this.#held.size;
  }

  /** A held lock of ours, or an orphaned one that has not expired by now. */
  find(ownerHash: string): HeldLock | OwnLock | undefined {
    return this.#held.get(ownerHash) ?? this.#orphan(ownerHash);
  }

  /** A lock that may still be ours stays releasable by its lockData until it expires. */
  orphaned(ownerHash: string, { key, owner }: OwnLock): void {
    this.#orphans.set(ownerHash, { key, owner, until: this.p.liveness.now() + this.p.lockTtlMs });
  }

  unorphan(ownerHash: string): void {
    this.#orphans.delete(ownerHash);
  }

  /** terminate(): nothing is kept alive any more; acquire() locks stay listed, so release() still frees them. */
  endAll(): void {
    for (const held of this.#held.values()) held.end();
  }

  #orphan(ownerHash: string): OwnLock | undefined {
    const now = this.p.liveness.now();
    for (const [hash, orphan] of this.#orphans) if (orphan.until <= now) this.#orphans.delete(hash);
    return this.#orphans.get(ownerHash);
  }

  /**
   * Lets liveness rest when nothing is held or being acquired. The delete of the record is bounded (a request
   * that never returns must not keep an isolate alive) and handed to waitUntil; a failure goes to `errors`.
   */
  #goIdleIfUnused(waitUntil: WaitUntil | undefined): void {
    if (this.#held.size !== this.#releasing.size || this.#acquiring !== 0) return;
    const deleting = this.p.liveness.idle?.();
    if (!deleting) return;
    const timeoutMs = this.p.lockRecheckMs;
    const noReply = () => new LivenessError(`pulselock: deleting the idle liveness record got no reply within ${timeoutMs} ms`);
    // Built whether or not there is a waitUntil: the delete's failure must be caught either way.
    const settled = withTimeout(deleting, timeoutMs, noReply).catch(this.p.onLivenessError);
    waitUntil?.(settled);
  }
}
