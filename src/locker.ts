import { backoffMs } from "./backoff";
import { Batcher } from "./batcher";
import { isDatabase, type Database } from "./database";
import { DEFAULTS } from "./defaults";
import { LAPSED_REASON, LockError, MutexError, RedisCommandError, LivenessError, LockerTerminatedError, messageOf } from "./errors";
import { Events } from "./events";
import { fencedTtl } from "./fencing";
import type { Heartbeat } from "./heartbeater";
import { inThreadPlatform } from "./in-thread-liveness";
import { assertLockName } from "./keys";
import type { LockData } from "./lock-data";
import { decodeLockRecord, encodeTraceField, formatOwnerHash, ownLockData, ownerOf, parseOwnerHashCandidates, type Owner, type OwnerParts } from "./lock-record";
import { LockRun } from "./lock-run";
import type { Identity, Liveness, Platform } from "./liveness";
import { MAX_TIMER_MS, describe, resolveOptions, type LockerOptions, type ResolvedOptions } from "./options";
import { mayHaveRun, toRedisCommandError } from "./redis-errors";
import type { ReleaseWakeups } from "./release-wakeups";
import { extendLock, readKey, releaseResult } from "./lock-ops";
import { LAPSED, acquireReplies, releaseReplies, type AcquireReply } from "./batch-replies";
import type { AcquireResult, Extend, LockerErrorEvent, MutexOptions, OwnerHashStatusResult, ReleaseResult, RunOptions, RunResult, WaitUntil } from "./results";
import { ACQUIRE } from "./scripts/acquire";
import { RELEASE } from "./scripts/release";
import { REMOVE } from "./scripts/remove";
import { LockStatus, OwnerHashStatus } from "./statuses";
import { randomHex, sleep, withTimeout } from "./timers";
import { failWhenUnreachable } from "./unreachable";

/** What #acquire() found: the lock is ours now (with the identity and seq it is held under), or someone else's. */
type Acquired =
  | { status: LockStatus.SUCCESS; lockData: LockData; identity: Identity; seq: string; sentAt: number }
  | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; lockData: LockData };

const noop = (): void => {};

/** What release() needs to free a lock that this Locker took. */
interface OwnLock {
  key: string;
  owner: Owner;
}

/** A lock this Locker acquired and has not released yet. */
interface HeldLock extends OwnLock {
  /** Taken by acquireAndRun()/mutex(): release() must not pull the lock from under its run. */
  byRun: boolean;
  /** Resolves the lock's waitUntil promise and stops its liveness beat (where liveness beats per request). */
  end: () => void;
  /** The waitUntil of the call that took it (or the Locker's), for the idle delete after it. */
  waitUntil: WaitUntil | undefined;
}

/**
 * Where mutex() waiters flag a held lock so that its release publishes. The
 * lock key's hash tag keeps it in the lock's slot; a lock key always ends in
 * "}", so no lock name can produce this key.
 */
const waitFlagKey = (lockKey: string): string => `${lockKey}:w`;

/**
 * Batching (see Batcher): a batch of 100 keeps one script under ~0.5 ms of
 * Redis time, and with 2 batches in flight a second one can leave while the
 * first is out, so that calls do not queue behind a slow HTTP round trip for
 * long. Smaller batches with more in flight were measured and not faster
 * (docs/benchmarks.md).
 */
const MAX_BATCH = 100;
const MAX_BATCHES_IN_FLIGHT = 2;

/**
 * One lock's share of a batched script call: its key, its wait flag's key
 * (absent when an acquire needs none), its one argument, and, to acquire, the
 * identity it acts under.
 */
interface BatchEntry {
  key: string;
  flag?: string;
  arg: string;
  processHash?: string;
}

/** The KEYS and ARGV of a batch, after `head` ARGV (plain loops: this runs for every lock). */
function batchCall(entries: BatchEntry[], head: string[]): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const args = head;
  for (const e of entries) {
    keys.push(e.key);
    if (e.flag !== undefined) keys.push(e.flag);
    args.push(e.arg);
  }
  return { keys, args };
}

/** How a release announces itself: not at all without pub/sub, sharded pub/sub on a cluster. */
function publishMode(db: Database): string {
  return !db.transport.openSubscriber ? "0" : db.transport.isCluster ? "2" : "1";
}

const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ??
  (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);

/**
 * Runs singleton jobs across a fleet. Locks have a long TTL, so a blocked
 * event loop keeps them; a per-process liveness record, written from another
 * thread, lets the fleet take the locks of a dead process within seconds.
 */
export class Locker {
  /** Background errors that did not fail a call: liveness writes, transient Redis errors, lost locks. */
  readonly errors = new Events<LockerErrorEvent>();
  readonly #options: ResolvedOptions;
  readonly #liveness: Liveness;
  readonly #platform: Platform;
  #databasePromise: Promise<Database> | undefined;
  /** The database once known: most calls then skip an await (a microtask and a promise each). */
  #db: Database | undefined;
  #pendingIdentity: Promise<Identity> | undefined;
  /** The identity that #pendingIdentity writes. */
  #startingIdentity: Identity | undefined;
  #identity: Identity | undefined;
  #generation = 0;
  #lapsedGeneration = 0;
  #seq = 0;
  readonly #runs = new Set<{ run: LockRun; generation: number; key: string }>();
  #wakeups: ReleaseWakeups | undefined;
  #batch: { acquire: Batcher<BatchEntry, AcquireReply>; release: Batcher<BatchEntry, unknown> } | undefined;
  #terminated = false;
  /**
   * Locks this Locker holds, by owner hash: what releasing one needs, the run that holds it (acquireAndRun and
   * mutex), and what resolves its waitUntil promise. release() frees only what is here.
   */
  readonly #held = new Map<string, HeldLock>();
  /**
   * Locks that may still be ours although no call holds them: a release that failed, an acquire whose reply was
   * lost. They keep nothing alive (no liveness, no waitUntil), yet release() can still free them with the
   * lockData that a refusal or readLockData() shows; forgotten after lockTtlMs, when they have expired anyway.
   */
  readonly #orphans = new Map<string, OwnLock & { until: number }>();
  /** Acquisitions on their way: liveness must not go idle under them. */
  #acquiring = 0;
  /** The liveness writer's last failure: what a first write that never succeeds is reported with. */
  #lastLivenessError: unknown;


  constructor(options: LockerOptions, platform: Platform = inThreadPlatform) {
    this.#options = resolveOptions(options);
    this.#platform = platform;
    this.#liveness = platform.createLiveness({
      source: this.#options.database,
      loadDatabase: () => this.#database(),
      reportWriteMs: this.#options.reportWriteMs,
      reportTtlMs: this.#options.reportTtlMs,
      onError: (error) => {
        this.#lastLivenessError = error;
        this.#emit("liveness")(error);
      },
      onLapse: (generation) =>
        this.#lapse(generation, LAPSED_REASON),
    });
  }

  /**
   * Takes the lock if it is free or its holder's process is dead, runs `fn`
   * while holding it, and always releases it afterwards. Returns
   * SOMEONE_ELSE_HOLDS_LOCK without running `fn` when a live process holds it.
   * If the lock is lost while `fn` runs, the heartbeat throws, the signal
   * aborts, and this call rejects with the LockError even if `fn` returned.
   */
  acquireAndRun<T>(
    key: string,
    fn: (heartbeat: Heartbeat, ownerHash: string) => Promise<T> | T,
    traceOrOptions?: string | RunOptions,
  ): Promise<RunResult<T>> {
    try {
      const { trace, waitUntil } = this.#callOptions(traceOrOptions);
      return this.#run(key, fn, trace, "", waitUntil);
    } catch (error) {
      return Promise.reject(error); // a bad option rejects like every other bad input of this call
    }
  }

  /** A call's trace and waitUntil (its own, else the Locker's); a bad waitUntil is a TypeError. */
  #callOptions(traceOrOptions: string | RunOptions | undefined): { trace: string | undefined; waitUntil: WaitUntil | undefined } {
    if (typeof traceOrOptions !== "object" || traceOrOptions === null) return { trace: traceOrOptions, waitUntil: this.#options.waitUntil };
    const { trace, waitUntil } = traceOrOptions;
    if (waitUntil !== undefined && typeof waitUntil !== "function") {
      throw new TypeError(`pulselock: option waitUntil must be a function, got ${describe(waitUntil)}`);
    }
    return { trace, waitUntil: waitUntil ?? this.#options.waitUntil };
  }

  #run<T>(key: string, fn: (heartbeat: Heartbeat, ownerHash: string) => Promise<T> | T, trace: string | undefined, waitFlagMs: string, waitUntil: WaitUntil | undefined): Promise<RunResult<T>> {
    const run = this.#runHeld(key, fn, trace, waitFlagMs, waitUntil);
    // The isolate must outlive the response until the job and its release are done.
    waitUntil?.(run.then(noop, noop));
    return run;
  }

  async #runHeld<T>(
    key: string,
    fn: (heartbeat: Heartbeat, ownerHash: string) => Promise<T> | T,
    trace: string | undefined,
    waitFlagMs: string,
    waitUntil: WaitUntil | undefined,
  ): Promise<RunResult<T>> {
    if (typeof fn !== "function") {
      throw new TypeError(`pulselock: acquireAndRun() needs a function to run, got ${describe(fn)}`);
    }
    const acquired = await this.#acquire(key, trace, "acquireAndRun", waitFlagMs, waitUntil);
    if (acquired.status !== LockStatus.SUCCESS) return acquired;
    const { lockData, identity, seq, sentAt } = acquired;
    const run = new LockRun({
      lockData,
      identity,
      seq,
      sentAt,
      db: this.#db ?? (await this.#database()),
      key,
      options: this.#options,
      liveness: this.#liveness,
      onLost: this.#emit("lost_lock"),
      onError: this.#emit("locker"),
    });
    const entry = { key, generation: identity.generation, run };
    this.#runs.add(entry);
    let value: T | undefined;
    let failure: { error: unknown } | undefined;
    try {
      value = await fn(run.createHeartbeat(), lockData.ownerHash);
    } catch (error) {
      failure = { error };
    }
    run.finish();
    this.#runs.delete(entry);
    let lost = run.lost;
    try {
      // A retry that finds the lock gone or taken counts as released when the first try left before the deadline:
      // that try may have deleted it, and nobody else could have held it while the job ran.
      const released = await this.#releaseOwned(key, { processHash: identity.processHash, seq }, lost ? 1 : Infinity, (sentAt) => run.heldAt(sentAt));
      if (!lost && released.status !== LockStatus.SUCCESS) {
        // The lock was gone by the end although no check noticed in time: the caller must still learn it.
        lost = new LockError(key, run.lockData.ownerHash, released.lockData, "the lock was no longer held when the job ended");
        this.#emit("lost_lock")(lost);
      }
    } catch (error) {
      if (!failure && !lost) throw error;
      this.#emit("locker")(error);
    } finally {
      this.#forget(lockData.ownerHash);
    }
    if (failure) throw failure.error;
    if (lost) throw lost;
    return { status: LockStatus.SUCCESS, result: value as T };
  }

  /**
   * Waits until the lock is free (or its holder dead), then runs `fn` like
   * acquireAndRun() and returns its result. Throws MutexError on timeout.
   * On Node a release wakes waiters at once through pub/sub; polling with
   * capped exponential backoff and jitter is the fallback.
   *
   * `recheckDelay` is the pause between two tries: milliseconds (the first
   * pause of the backoff), or, as in @clickup/distributed-locker, a function
   * whose promise is the pause (a release still wakes the waiter early, and
   * the timeout still counts).
   */
  mutex<T>(key: string, options: MutexOptions, fn: (heartbeat: Heartbeat) => Promise<T> | T): Promise<T>;
  mutex<T>(
    key: string,
    timeoutMs: number,
    fn: (heartbeat: Heartbeat) => Promise<T> | T,
    recheckDelay?: number | (() => Promise<unknown>),
    trace?: string,
  ): Promise<T>;
  async mutex<T>(
    key: string,
    timeoutOrOptions: number | MutexOptions,
    fn: (heartbeat: Heartbeat) => Promise<T> | T,
    recheckDelay?: number | (() => Promise<unknown>),
    trace?: string,
  ): Promise<T> {
    const pause = typeof recheckDelay === "function" ? recheckDelay : undefined;
    const o: MutexOptions =
      typeof timeoutOrOptions === "object" && timeoutOrOptions !== null
        ? timeoutOrOptions
        : { timeoutMs: timeoutOrOptions, recheckDelayMs: typeof recheckDelay === "function" ? undefined : recheckDelay, trace };
    const { waitUntil } = this.#callOptions({ waitUntil: o.waitUntil });
    const bad = (what: string, value: unknown) => new TypeError(`pulselock: mutex() needs ${what}, got ${describe(value)}`);
    if (typeof o.timeoutMs !== "number" || !(o.timeoutMs >= 0)) throw bad("timeoutMs >= 0", o.timeoutMs);
    const base = o.recheckDelayMs ?? DEFAULTS.mutexRecheckMs;
    // A timer cannot wait longer than MAX_TIMER_MS: beyond it fires at once, and the waiter would spin on Redis.
    if (typeof base !== "number" || !(base > 0 && base <= MAX_TIMER_MS)) {
      throw bad(`recheckDelayMs in (0, ${MAX_TIMER_MS}] (or recheckDelay as a function that returns a promise)`, base);
    }
    if (o.trace !== undefined && typeof o.trace !== "string") throw bad("trace to be a string", o.trace);
    const sig = o.signal as Partial<AbortSignal> | null | undefined;
    if (sig !== undefined && (typeof sig?.aborted !== "boolean" || typeof sig.addEventListener !== "function")) throw bad("signal to be an AbortSignal", sig);
    if (typeof fn !== "function") throw bad("a function to run", fn);
    assertLockName(key, "mutex");
    this.#assertOpen();
    const signal = o.signal;
    const start = this.#liveness.now();
    let woken = false;
    let wake: (() => void) | undefined;
    const db = this.#db ?? (await this.#database());
    this.#wakeups ??= this.#platform.releaseWakeups?.(db, this.#emit("locker"));
    const stop = this.#wakeups
      ? await this.#wakeups.listen(key, () => {
          woken = true;
          wake?.();
        })
      : noop;
    let flagged = false;
    try {
      let lockData: LockData | null = null;
      for (let attempt = 0; ; attempt++) {
        signal?.throwIfAborted();
        woken = false;
        // With wake-ups, a failed try flags the lock, so that its release publishes.
        const flagMs = publishMode(db) === "0" || !this.#wakeups ? "" : String(Math.ceil(Math.min(Math.max(1, start + o.timeoutMs - this.#liveness.now()), MAX_TIMER_MS)));
        flagged ||= flagMs !== "";
        const res = await this.#run(
          key,
          (heartbeat) => {
            flagged = false; // the lock is ours: its release takes the flag along, whatever fn does
            return fn(heartbeat);
          },
          o.trace,
          flagMs,
          waitUntil,
        );
        if (res.status === LockStatus.SUCCESS) return res.result;
        lockData = res.lockData;
        const left = start + o.timeoutMs - this.#liveness.now();
        if (left <= 0) throw new MutexError(key, lockData, o.timeoutMs);
        if (woken) continue;
        await new Promise<void>((resolve, reject) => {
          const wait = Math.min(left, backoffMs(attempt, base, Math.max(base, DEFAULTS.mutexMaxBackoffMs)));
          const done = () => {
            wake = undefined;
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
          };
          const onAbort = () => (done(), reject(signal!.reason));
          // A caller's pause ends the wait (or its rejection ends mutex()); the timer then only bounds it by the timeout.
          const timer = setTimeout(() => (done(), resolve()), pause ? Math.min(left, MAX_TIMER_MS) : wait);
          const end = () => (done(), resolve());
          wake = end;
          if (pause) {
            Promise.resolve()
              .then(pause)
              .then(
                () => wake === end && end(),
                (error: unknown) => wake === end && (done(), reject(error)),
              );
          }
          signal?.addEventListener("abort", onAbort, { once: true });
          if (signal?.aborted) onAbort();
        });
      }
    } finally {
      stop();
      // A waiter that leaves without the lock (timeout, abort, error) takes its flag along: no key outlives the call.
      // Another waiter flags the lock again on its next try; should the delete fail, the flag's TTL ends it anyway.
      if (flagged) {
        await withTimeout(db.run(REMOVE, [waitFlagKey(db.lockKey(key))], []), this.#options.lockRecheckMs, () => new Error("timed out")).catch(noop);
      }
    }
  }

  /**
   * Low-level: takes the lock if it is free or its holder's process is dead.
   * Use acquireAndRun() when you can; with acquire() you must call extend()
   * yourself (more often than lockTtlMs) and release() at the end, or use
   * `await using` on the result.
   */
  async acquire(key: string, traceOrOptions?: string | RunOptions): Promise<AcquireResult> {
    const { trace, waitUntil } = this.#callOptions(traceOrOptions);
    const res = await this.#acquire(key, trace, "acquire", "", waitUntil);
    if (res.status !== LockStatus.SUCCESS) {
      return { status: res.status, lockData: res.lockData, [asyncDispose]: async () => {} };
    }
    const db = this.#db ?? (await this.#database());
    const owner = { processHash: res.identity.processHash, seq: res.seq };
    let lockData = res.lockData;
    const extend: Extend = async () => {
      if (!this.#isAlive(res.identity)) {
        // A lapse is final: others may already have taken the lock, so extending it would only hide that.
        throw new LockError(key, lockData.ownerHash, null, LAPSED_REASON);
      }
      const result = await extendLock(db, key, owner, this.#options.lockTtlMs);
      if (result.status === LockStatus.SUCCESS) lockData = result.lockData;
      return result;
    };
    return {
      status: LockStatus.SUCCESS,
      lockData,
      extend,
      [asyncDispose]: async () => void (await this.release(key, lockData)),
    };
  }

  /**
   * Releases a lock that this Locker took with acquire(). Transient errors (a
   * lost connection, a failover) are retried until lockTtlMs has passed, since
   * by then the lock has expired anyway.
   *
   * Only this Locker's own locks are released: any other lockData (another
   * process's, another key's, a refusal's, a made-up owner, one released
   * already) deletes nothing: it answers SOMEONE_ELSE_HOLDS_LOCK with the key's
   * current holder, or, when the key is free, NO_KEY for a lockData of this key
   * (released or expired already) and SOMEONE_ELSE_HOLDS_LOCK with the lockData
   * given for any other (another key's, a made-up owner). A lock held
   * by a running acquireAndRun() or mutex() of this Locker is released when its
   * function returns: releasing it earlier is refused with a TypeError.
   */
  async release(key: string, lockData: LockData): Promise<ReleaseResult> {
    assertLockName(key, "release");
    if (typeof lockData !== "object" || lockData === null || typeof lockData.ownerHash !== "string") {
      throw new TypeError(`pulselock: release() needs the lockData that acquire() returned, got ${describe(lockData)}`);
    }
    const own = this.#held.get(lockData.ownerHash) ?? this.#orphan(lockData.ownerHash);
    if (!own || own.key !== key) return this.#notOurs(key, lockData);
    if ("byRun" in own && own.byRun) {
      throw new TypeError(
        `pulselock: release() refused: the lock on ${JSON.stringify(key)} (${lockData.ownerHash}) belongs to an ` +
          "acquireAndRun() or mutex() of this Locker, which releases it when its function returns; make the job return instead",
      );
    }
    this.#orphans.delete(lockData.ownerHash);
    try {
      return await this.#releaseOwned(key, own.owner, Infinity);
    } catch (error) {
      // After an error the lock may still be ours: a later release() must still be able to free it.
      this.#orphaned(lockData.ownerHash, own);
      throw error;
    } finally {
      this.#forget(lockData.ownerHash);
    }
  }

  /** An orphaned lock of ours, if it has not expired by now. */
  #orphan(ownerHash: string): OwnLock | undefined {
    const now = this.#liveness.now();
    for (const [hash, orphan] of this.#orphans) if (orphan.until <= now) this.#orphans.delete(hash);
    return this.#orphans.get(ownerHash);
  }

  #orphaned(ownerHash: string, { key, owner }: OwnLock): void {
    this.#orphans.set(ownerHash, { key, owner, until: this.#liveness.now() + this.#options.lockTtlMs });
  }

  /**
   * release() of a lock that is not (or no longer) this Locker's: say who holds the key, and touch nothing. A free
   * key answers NO_KEY to a lockData of this key (released already, or expired), as a compare-and-delete would;
   * another key's or a made-up owner gets SOMEONE_ELSE_HOLDS_LOCK with the lockData given.
   */
  async #notOurs(key: string, given: LockData): Promise<ReleaseResult> {
    const db = this.#db ?? (await this.#database());
    const redisKey = db.lockKey(key);
    const raw = await readKey(db, redisKey);
    if (raw !== null) return { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: decodeLockRecord(key, redisKey, raw) };
    return ownerOf(key, given.ownerHash) ? { status: LockStatus.NO_KEY, lockData: null } : { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: given };
  }

  /** Reads who holds a lock. Returns "maybe_unlocked" when nobody does or the holder's process is dead. */
  async readLockData(key: string): Promise<LockData | "maybe_unlocked"> {
    assertLockName(key, "readLockData");
    const db = this.#db ?? (await this.#database());
    const raw = await readKey(db, db.lockKey(key));
    if (raw === null) return "maybe_unlocked";
    const lockData = decodeLockRecord(key, db.lockKey(key), raw);
    return (await this.#isProcessAlive(db, lockData.processHash)) ? lockData : "maybe_unlocked";
  }

  /** For debugging: is the run with this owner hash still holding its lock, in a live process? */
  async readOwnerHashStatus(ownerHash: string): Promise<OwnerHashStatusResult> {
    const candidates = parseOwnerHashCandidates(ownerHash);
    if (candidates.length === 0) return { status: OwnerHashStatus.MALFORMED_OWNER_HASH, lockData: null, key: null };
    const db = this.#db ?? (await this.#database());
    let first: OwnerHashStatusResult | undefined;
    // A key may itself contain "@<hash>.<seq>": the reading whose lock record names this very owner wins.
    for (const { key } of candidates) {
      const raw = await readKey(db, db.lockKey(key));
      const lockData = raw === null ? null : decodeLockRecord(key, db.lockKey(key), raw);
      if (lockData?.ownerHash === ownerHash) {
        const alive = await this.#isProcessAlive(db, lockData.processHash);
        return { status: alive ? OwnerHashStatus.RUNNING : OwnerHashStatus.NO_RUNNING_PROCESS, lockData, key };
      }
      first ??= lockData
        ? { status: OwnerHashStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData, key }
        : { status: OwnerHashStatus.NO_KEY, lockData: null, key };
    }
    return first!;
  }

  /**
   * Stops this Locker: running jobs are told they lost their locks (their
   * signals abort), the liveness record is deleted, so the fleet may take
   * every lock of this Locker at once, and the thread and connections it
   * opened are closed. The Locker cannot be used afterwards.
   */
  async terminate(): Promise<void> {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#lapse(Infinity, "the Locker was terminated");
    // Nothing is kept alive for a terminated Locker; its acquire() locks stay listed, so release() still frees them.
    for (const held of this.#held.values()) held.end();
    await this.#wakeups?.close();
    await this.#liveness.terminate();
  }

  /**
   * Takes the lock under a live identity: 1 round trip on a free key, 2 when a
   * live process holds it, 3 when a dead holder's lock is taken over. Never
   * holds a lock under an identity that is over: the Locker was terminated
   * meanwhile, or Redis lost our liveness record (a restart or failover that
   * lost data), or the record lapsed while we acquired.
   */
  async #acquire(key: string, trace: string | undefined, method: string, waitFlagMs: string, waitUntil: WaitUntil | undefined): Promise<Acquired> {
    assertLockName(key, method);
    if (trace !== undefined && typeof trace !== "string") {
      throw new TypeError(`pulselock: ${method}() takes a trace string, got ${describe(trace)}`);
    }
    this.#assertOpen();
    this.#acquiring++;
    try {
      const db = this.#db ?? (await this.#database());
      const seq = String(++this.#seq);
      for (let attempt = 0; ; attempt++) {
        const current = this.#identity;
        const identity = current && this.#isAlive(current) ? current : await this.#currentIdentity();
        const res = await this.#tryAcquire(db, key, identity, seq, trace, waitFlagMs);
        if (res.status === LockStatus.SOMEONE_ELSE_HOLDS_LOCK) return res;
        if (res.status === LockStatus.SUCCESS) {
          if (!this.#terminated && this.#isAlive(identity)) {
            try {
              await db.replicated("acquire", db.lockKey(key));
            } catch (error) {
              // Not on enough replicas: a failover could lose it, so it does not count as held.
              await this.#releaseQuietly({ key, processHash: identity.processHash, seq, trace });
              throw error;
            }
            this.#hold(res.lockData.ownerHash, { key, owner: { processHash: identity.processHash, seq } }, method !== "acquire", waitUntil);
            return { status: LockStatus.SUCCESS, lockData: res.lockData, sentAt: res.sentAt, identity, seq };
          }
          await this.#releaseQuietly({ key, processHash: identity.processHash, seq, trace });
        }
        this.#assertOpen();
        this.#lapse(identity.generation, "this process's liveness record was lost or lapsed");
        if (attempt) throw new LivenessError("pulselock: this process's liveness record vanished again right after it was written");
      }
    } finally {
      this.#acquiring--;
      this.#goIdleIfUnused(waitUntil);
    }
  }

  /** One acquisition attempt under `identity`; "LAPSED" when Redis has no liveness record for it. */
  async #tryAcquire(
    db: Database,
    key: string,
    identity: Identity,
    seq: string,
    trace: string | undefined,
    waitFlagMs: string,
  ): Promise<
    | { status: LockStatus.SUCCESS; lockData: LockData; sentAt: number }
    | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; lockData: LockData }
    | { status: "LAPSED" }
  > {
    const redisKey = db.lockKey(key);
    const owner = { key, processHash: identity.processHash, seq, trace };
    const traceField = encodeTraceField(trace);
    let victim: LockData | undefined;
    for (;;) {
      const sentAt = this.#liveness.now();
      // The short form ":seq|traceField" when there is neither a victim nor a flag to set (scripts/acquire.ts).
      const full = !!(victim || waitFlagMs);
      const arg = full ? `${seq}|${victim ? ownerOf(key, victim.ownerHash)!.seq : ""}|${waitFlagMs}|${victim?.processHash ?? ""}|${traceField}` : `:${seq}|${traceField}`;
      let res: AcquireReply;
      try {
        // Only the full form names the wait flag: a short one has no flag to set (one key fewer per lock).
        res = await this.#batchers(db).acquire.call({ processHash: identity.processHash, key: redisKey, flag: full ? waitFlagKey(redisKey) : undefined, arg });
      } catch (error) {
        // The script may have run although no reply says so (a reply of a shape we do not know, a timeout, a
        // dropped connection), so the lock may have been written: free it rather than leave it held for lockTtlMs
        // (a compare-and-delete on our own seq, harmless if it was not; bounded like every release). Best effort: over
        // HTTP the release may overtake a delayed acquire. Awaited, so a caller that retries at once finds it done.
        if (mayHaveRun(error)) await this.#releaseQuietly(owner);
        throw error;
      }
      if (res === LAPSED) return { status: "LAPSED" };
      if (typeof res !== "string") return { status: LockStatus.SUCCESS, lockData: ownLockData(owner, res.token, res.ms), sentAt };
      const lockData = decodeLockRecord(key, redisKey, res);
      // Our own record under this very seq: the call ran twice (a client resent it after a reconnect), and the first took the lock.
      if (lockData.processHash === identity.processHash && ownerOf(key, lockData.ownerHash)?.seq === seq) {
        return { status: LockStatus.SUCCESS, lockData, sentAt };
      }
      // Held: ours, or a live process's, or (once) a dead holder's that we try to take over.
      if (victim || lockData.processHash === identity.processHash || (await this.#isProcessAlive(db, lockData.processHash))) {
        return { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData };
      }
      victim = lockData;
    }
  }

  /** The acquire and release batchers, made once the database is known (a cluster cannot batch). */
  #batchers(db: Database): { acquire: Batcher<BatchEntry, AcquireReply>; release: Batcher<BatchEntry, unknown> } {
    if (this.#batch) return this.#batch;
    const cluster = !!db.transport.isCluster;
    const [size, inFlight] = cluster ? [1, Infinity] : [MAX_BATCH, MAX_BATCHES_IN_FLIGHT];
    const ttl = String(this.#options.lockTtlMs);
    const scope = this.#platform.requestScoped ? "request" : "turn";
    const acquire = new Batcher<BatchEntry, AcquireReply>(
      async (entries) => {
        const processHash = entries[0]!.processHash!;
        // On a single Redis the script also checks our liveness record, the last key (a cluster cannot: another slot).
        const { keys, args } = batchCall(entries, [processHash, ttl, cluster ? "" : "1"]);
        if (!cluster) keys.push(db.processKey(processHash));
        return acquireReplies(await db.run(ACQUIRE, keys, args), entries.length);
      },
      (first, entry) => entry.processHash === first.processHash,
      size,
      inFlight,
      scope,
    );
    const timeoutMs = this.#options.lockRecheckMs;
    const release = new Batcher<BatchEntry, unknown>(
      async (entries) => {
        // Bounded, one timer per batch: a release that times out and lands later is harmless (a compare-and-delete).
        const { keys, args } = batchCall(entries, [publishMode(db)]);
        const reply = await withTimeout(
          db.run(RELEASE, keys, args),
          timeoutMs,
          () => new RedisCommandError("release", "TIMEOUT", true, `no reply within ${timeoutMs} ms`),
        );
        return releaseReplies(reply, entries.length);
      },
      () => true,
      size,
      inFlight,
      scope,
    );
    return (this.#batch = { acquire, release });
  }

  /**
   * One try to free a lock we may have written but do not hold. Should it fail, the lock stays releasable by its
   * lockData (a refusal shows it) until it expires.
   */
  #releaseQuietly(owner: OwnerParts): Promise<unknown> {
    return this.#releaseOwned(owner.key, owner, 1).catch((error: unknown) => {
      this.#orphaned(formatOwnerHash(owner), { key: owner.key, owner });
      this.#emit("locker")(error);
    });
  }

  /**
   * Releases with retries of transient errors: `attempts` of them, or until lockTtlMs has passed. When `heldAt`
   * says the lock was still certainly ours as the first try left, a retry that finds it gone or taken is a SUCCESS:
   * the first try may have deleted it before its reply was lost.
   */
  async #releaseOwned(key: string, owner: Owner, attempts: number, heldAt?: (sentAt: number) => boolean): Promise<ReleaseResult> {
    const db = this.#db ?? (await this.#database());
    const redisKey = db.lockKey(key);
    const entry = { key: redisKey, flag: waitFlagKey(redisKey), arg: `${owner.processHash}|${owner.seq}` };
    const start = this.#liveness.now();
    const oursAtStart = heldAt?.(start) ?? false;
    for (let attempt = 0; ; attempt++) {
      let reply: unknown;
      try {
        // Bounded: a release that times out and lands later is harmless (it is a compare-and-delete).
        reply = await this.#batchers(db).release.call(entry);
      } catch (error) {
        const e = toRedisCommandError("release", error);
        if (!e.transient || attempt + 1 >= attempts || this.#liveness.now() - start >= this.#options.lockTtlMs) throw e;
        this.#emit("locker")(e);
        await sleep(backoffMs(attempt, DEFAULTS.mutexRecheckMs, this.#options.lockRecheckMs));
        continue;
      }
      const result = releaseResult(key, redisKey, reply);
      if (attempt > 0 && result.status !== LockStatus.SUCCESS && oursAtStart) return { status: LockStatus.SUCCESS, lockData: null };
      return result;
    }
  }

  #emit(type: LockerErrorEvent["type"]): (error: unknown) => void {
    return (error) => this.errors.emit({ type, error });
  }

  async #isProcessAlive(db: Database, processHash: string): Promise<boolean> {
    return (await readKey(db, db.processKey(processHash))) !== null;
  }

  /** The identity to acquire under: the current one, or a new one when it lapsed (a lapse is final). */
  #currentIdentity(): Promise<Identity> {
    const current = this.#identity;
    if (current && this.#isAlive(current)) return Promise.resolve(current);
    // Concurrent acquires share one start; where a request must not wait on another's I/O, each writes it itself.
    const pending = this.#pendingIdentity;
    if (pending) return this.#liveness.join && this.#startingIdentity ? this.#joinIdentity(this.#startingIdentity, pending) : pending;
    // The old identity is over (its deadline may simply have passed): retire it before a new one is written.
    if (current) this.#liveness.retire(current.generation);
    const identity: Identity = { processHash: randomHex(16), generation: ++this.#generation };
    this.#startingIdentity = identity;
    const timeoutMs = this.#options.reporterWorkerSpawnTimeoutMs;
    this.#lastLivenessError = undefined;
    const firstWrite = withTimeout(this.#liveness.start(identity), timeoutMs, () => {
      const cause = this.#lastLivenessError;
      const why = cause === undefined ? "no write came back (is Redis reachable? does the database module load in the liveness thread?)" : `the last try failed: ${messageOf(cause)}`;
      return new LivenessError(`pulselock: the liveness reporter did not write its first record within ${timeoutMs} ms: ${why}`, { cause });
    });
    // Unreachable Redis fails the acquire when the client says so, not after timeoutMs.
    const subscribeWriterErrors = (listener: (error: unknown) => void) =>
      this.errors.subscribe(({ type, error }) => type === "liveness" && listener(error));
    this.#pendingIdentity = failWhenUnreachable(firstWrite, this.#db?.transport, subscribeWriterErrors, this.#emit("locker"))
      .then(() => (this.#identity = identity))
      .finally(() => (this.#pendingIdentity = this.#startingIdentity = undefined));
    return this.#pendingIdentity;
  }

  /** Waits for `identity` by a write of the caller's own; `pending` (another request's start) is only watched for failure. */
  async #joinIdentity(identity: Identity, pending: Promise<Identity>): Promise<Identity> {
    pending.catch(noop); // its own caller handles it
    await this.#liveness.join!(identity);
    return identity;
  }

  /**
   * A lock is held until forget(): on runtimes with waitUntil, the isolate is kept alive that long, and where
   * liveness is written from the holders' own timers (request contexts), this call's beat keeps it fresh.
   */
  #hold(ownerHash: string, own: OwnLock, byRun: boolean, waitUntil: WaitUntil | undefined): void {
    let release = noop;
    waitUntil?.(new Promise<void>((resolve) => (release = resolve)));
    const stopWriting = this.#liveness.keepWriting?.() ?? noop;
    let ended = false;
    // Once only: terminate() ends every lock, and a later release() of an acquire() lock forgets it again.
    const end = () => {
      if (ended) return;
      ended = true;
      stopWriting();
      release();
    };
    this.#held.set(ownerHash, { ...own, byRun, end, waitUntil });
  }

  /**
   * A lock is no longer held: let liveness rest when nothing is held, then resolve the lock's waitUntil promise
   * (the delete of the liveness record has its own by then).
   */
  #forget(ownerHash: string): void {
    const held = this.#held.get(ownerHash);
    this.#held.delete(ownerHash);
    this.#goIdleIfUnused(held?.waitUntil ?? this.#options.waitUntil);
    held?.end();
  }

  /**
   * Lets liveness rest when nothing is held or being acquired. The delete of the record is bounded (a request
   * that never returns must not keep an isolate alive) and handed to waitUntil; a failure goes to `errors`.
   */
  #goIdleIfUnused(waitUntil: WaitUntil | undefined): void {
    if (this.#held.size !== 0 || this.#acquiring !== 0) return;
    const deleting = this.#liveness.idle?.();
    if (!deleting) return;
    const timeoutMs = this.#options.lockRecheckMs;
    const noReply = () => new LivenessError(`pulselock: deleting the idle liveness record got no reply within ${timeoutMs} ms`);
    // Built whether or not there is a waitUntil: the delete's failure must be caught either way.
    const settled = withTimeout(deleting, timeoutMs, noReply).catch(this.#emit("liveness"));
    waitUntil?.(settled);
  }

  #assertOpen(): void {
    if (this.#terminated) throw new LockerTerminatedError();
  }

  /** Ends an identity for good: its runs lose their locks, and the next acquire starts a new one. */
  #lapse(generation: number, reason: string): void {
    this.#lapsedGeneration = Math.max(this.#lapsedGeneration, generation);
    this.#liveness.retire(generation);
    for (const { run, key, generation: g } of this.#runs) {
      if (g <= generation) run.lose(new LockError(key, run.lockData.ownerHash, null, reason));
    }
  }

  #isAlive(identity: Identity): boolean {
    if (identity.generation <= this.#lapsedGeneration) return false;
    const last = this.#liveness.lastWriteSentAt(identity.generation);
    return last !== undefined && this.#liveness.now() < last + fencedTtl(this.#options.reportTtlMs);
  }

  #database(): Promise<Database> {
    const source = this.#options.database;
    if (isDatabase(source)) return Promise.resolve((this.#db = source));
    this.#databasePromise ??= this.#platform.loadDatabase(source, this.#options.reporterWorkerSpawnTimeoutMs).then((db) => (this.#db = db), (error) => {
      this.#databasePromise = undefined;
      throw error;
    });
    return this.#databasePromise;
  }
}
