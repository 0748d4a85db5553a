import { Acquirer } from "./acquirer";
import { DatabaseHandle } from "./database-handle";
import { LAPSED_REASON, LockError, LockerTerminatedError } from "./errors";
import { connectionFailure } from "./unreachable";
import { Events } from "./events";
import type { Heartbeat } from "./heartbeater";
import { HeldLocks } from "./held-locks";
import { tracedRun } from "./instrumentation";
import { inThreadPlatform } from "./in-thread-liveness";
import { JobRunner } from "./job-runner";
import { assertLockName } from "./keys";
import type { LockData } from "./lock-data";
import { extendLock } from "./lock-ops";
import { notOurs, readLiveHolder, readOwnerHashStatus } from "./lock-reads";
import type { Liveness, Platform } from "./liveness";
import { MultiLocks } from "./multi-lock";
import type { MultiHeartbeat, MultiRunResult } from "./multi-lock-types";
import { MutexWaiter, mutexCall } from "./mutex-waiter";
import { describe } from "./describe-value";
import { resolveOptions, type LockerOptions, type ResolvedOptions } from "./options";
import { assertKnownOptions, RUN_OPTION_NAMES } from "./option-names";
import { ProcessIdentity } from "./process-identity";
import { Releaser } from "./releaser";
import type { AcquireResult, Extend, LockerErrorEvent, MutexOptions, OwnerHashStatusResult, ReleaseResult, RunOptions, RunResult, WaitUntil } from "./results";
import { LockStatus } from "./statuses";
import { Semaphore, type SemaphoreOptions } from "./semaphore";
import { Permits } from "./semaphore-permits";
import { timersFakedAtLoad } from "./timers";

const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ?? (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);

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
  readonly #database: DatabaseHandle;
  readonly #identity: ProcessIdentity;
  readonly #held: HeldLocks;
  readonly #releaser: Releaser;
  readonly #acquirer: Acquirer;
  readonly #runner: JobRunner;
  readonly #mutex: MutexWaiter;
  /** Ends this Locker's reports to its instrumentation (none: a no-op). */
  readonly #detach: () => void = () => {};
  readonly #multi: MultiLocks;
  readonly #permits: Permits;
  /** Set as terminate() begins, before any of its work (which calls back into this Locker) runs. */
  #terminated = false;
  /** Stops forwarding the client's background errors (terminate()). */
  #unwatchClient: () => void = () => {};
  /** The release() calls out, by owner hash (see release()). */
  readonly #releasing = new Map<string, Promise<ReleaseResult>>();
  /** terminate()'s work: a second call waits for the same. */
  #terminating: Promise<void> | undefined;

  constructor(options: LockerOptions, platform: Platform = inThreadPlatform) {
    if (timersFakedAtLoad || platform.clockFakedAtLoad) {
      throw new TypeError(
        "pulselock: the timers were fakes or mocks when pulselock loaded (fake timers or spies installed before it was imported): " +
          "a frozen clock would never extend a lock nor see it lost, while other processes take it over. Import pulselock before faking timers",
      );
    }
    const o = (this.#options = resolveOptions(options));
    const emit = (type: LockerErrorEvent["type"]) => (error: unknown) => this.errors.emit({ type, error });
    const instrumentation = o.instrumentation;
    const liveness = (this.#liveness = platform.createLiveness({
      source: o.database,
      loadDatabase: () => this.#database.get(),
      reportWriteMs: o.reportWriteMs,
      reportTtlMs: o.reportTtlMs,
      onError: (error) => {
        this.#identity.writerFailed(error);
        emit("liveness")(error);
      },
      onLapse: (generation) => this.#identity.lapse(generation, LAPSED_REASON),
      onWriteTime: instrumentation && ((ms, ok) => instrumentation.livenessWritten(ms, ok)),
    }));
    const database = (this.#database = new DatabaseHandle(o.database, platform, o));
    // The client's background errors (a dropped connection, each failed reconnect) go to locker.errors, as
    // @clickup/distributed-locker's did, rather than to stderr as ioredis's "Unhandled error event".
    database.whenKnown((db) => {
      if (this.#terminated) return;
      this.#unwatchClient = db.transport.watchErrors?.((error) => emit("locker")(connectionFailure("connection", error))) ?? this.#unwatchClient;
    });
    this.#identity = new ProcessIdentity({
      liveness,
      reportTtlMs: o.reportTtlMs,
      reporterWorkerSpawnTimeoutMs: o.reporterWorkerSpawnTimeoutMs,
      transport: () => database.known?.transport,
      onWriterError: (listener) => this.errors.subscribe(({ type, error }) => type === "liveness" && listener(error)),
      onError: emit("locker"),
      onLapse: (generation, reason) => {
        this.#runner.loseUpTo(generation, reason);
        this.#multi.loseUpTo(generation, reason);
      },
    });
    const held = (this.#held = new HeldLocks({
      liveness,
      lockTtlMs: o.lockTtlMs,
      lockRecheckMs: o.lockRecheckMs,
      waitUntil: o.waitUntil,
      onLivenessError: emit("liveness"),
    }));
    const releaser = (this.#releaser = new Releaser({
      database,
      liveness,
      held,
      lockTtlMs: o.lockTtlMs,
      lockRecheckMs: o.lockRecheckMs,
      onError: emit("locker"),
    }));
    const acquirer = (this.#acquirer = new Acquirer({
      database,
      liveness,
      identity: this.#identity,
      held,
      releaser,
      assertOpen: () => this.#assertOpen(),
      isTerminated: () => this.#terminated,
      instrumentation,
    }));
    let onLost = emit("lost_lock");
    if (instrumentation) {
      this.#detach = instrumentation.attach(() => held.size);
      const report = onLost;
      onLost = (error) => (instrumentation.lost(error as LockError), report(error));
    }
    this.#runner = new JobRunner({ database, liveness, options: o, acquirer, releaser, held, onLost, onError: emit("locker") });
    this.#mutex = new MutexWaiter({ database, liveness, platform, runner: this.#runner, lockRecheckMs: o.lockRecheckMs, onError: emit("locker") });
    this.#multi = new MultiLocks({
      ...{ database, liveness, platform, held, releaser, acquirer, mutex: this.#mutex, options: o, identity: this.#identity },
      ...{ assertOpen: () => this.#assertOpen(), isTerminated: () => this.#terminated, onLost, onError: emit("locker") },
    });
    this.#permits = new Permits({
      ...{ database, liveness, identity: this.#identity, held, acquirer, releaser, runner: this.#runner, waiter: this.#mutex },
      ...{
        lockTtlMs: o.lockTtlMs,
        lockRecheckMs: o.lockRecheckMs,
        requestScoped: !!platform.requestScoped,
        assertOpen: () => this.#assertOpen(),
        isTerminated: () => this.#terminated,
        onError: emit("locker"),
      },
    });
  }

  /**
   * A semaphore: at most `options.limit` concurrent holders of `key` across the fleet, each permit held with a
   * lock's liveness, heartbeats, seppuku and fencing token. Checks its arguments at once (a TypeError); holds
   * nothing until one of its methods takes a permit.
   */
  semaphore(key: string, options: SemaphoreOptions): Semaphore {
    return new Semaphore(
      { permits: this.#permits, callOptions: (t, method) => this.#callOptions(t, method), assertOpen: () => this.#assertOpen() },
      key,
      options,
    );
  }

  /**
   * Takes the lock if it is free or its holder's process is dead, runs `fn`
   * while holding it, and always releases it afterwards. Returns
   * SOMEONE_ELSE_HOLDS_LOCK without running `fn` when a live process holds it.
   * If the lock is lost while `fn` runs, the heartbeat throws, the signal
   * aborts, and this call rejects with the LockError even if `fn` returned.
   */
  acquireAndRun<T>(key: string, fn: (heartbeat: Heartbeat, ownerHash: string) => Promise<T> | T, traceOrOptions?: string | RunOptions): Promise<RunResult<T>> {
    try {
      const { trace, waitUntil } = this.#callOptions(traceOrOptions, "acquireAndRun");
      const instrumentation = this.#options.instrumentation;
      if (instrumentation) return tracedRun(instrumentation, key, trace, fn, (job) => this.#runner.run(key, job, trace, "", waitUntil));
      return this.#runner.run(key, fn, trace, "", waitUntil);
    } catch (error) {
      return Promise.reject(error); // a bad option rejects like every other bad input of this call
    }
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
    const call = mutexCall(key, timeoutOrOptions, fn, recheckDelay, trace);
    this.#assertOpen();
    return this.#mutex.run(key, call, fn, call.options.waitUntil ?? this.#options.waitUntil);
  }

  /**
   * Takes every lock of `keys` at once, all or nothing, runs `fn` while
   * holding them, and always releases them all afterwards. Returns
   * SOMEONE_ELSE_HOLDS_LOCK (with one held key and its holder) without running
   * `fn`, and holding nothing, when a live process holds any of them. Each key
   * is an ordinary lock (a single acquireAndRun() of one of them waits its
   * turn) with its own fencing token. Losing any key loses the set: the
   * heartbeat throws, the signal aborts, the other keys are released too, and
   * this call rejects with that key's LockError. At most 100 distinct keys.
   */
  acquireAllAndRun<T>(
    keys: readonly string[],
    fn: (heartbeat: MultiHeartbeat) => Promise<T> | T,
    traceOrOptions?: string | RunOptions,
  ): Promise<MultiRunResult<T>> {
    try {
      const { trace, waitUntil } = this.#callOptions(traceOrOptions, "acquireAllAndRun");
      return this.#multi.run(keys, fn, trace, waitUntil);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Waits until every lock of `keys` is free (or its holder dead), then runs
   * `fn` like acquireAllAndRun() and returns its result. Throws MutexError
   * (naming a key still held) on timeout. A release of any of the keys wakes
   * the waiter (pub/sub on Node); it holds nothing while it waits.
   */
  mutexAll<T>(keys: readonly string[], options: MutexOptions, fn: (heartbeat: MultiHeartbeat) => Promise<T> | T): Promise<T> {
    return this.#multi.mutex(keys, options, fn);
  }

  /**
   * Low-level: takes the lock if it is free or its holder's process is dead.
   * Use acquireAndRun() when you can; with acquire() you must call extend()
   * yourself (more often than lockTtlMs) and release() at the end, or use
   * `await using` on the result.
   */
  async acquire(key: string, traceOrOptions?: string | RunOptions): Promise<AcquireResult> {
    const { trace, waitUntil } = this.#callOptions(traceOrOptions, "acquire");
    const res = await this.#acquirer.acquire(key, trace, "acquire", "", waitUntil);
    if (res.status !== LockStatus.SUCCESS) {
      return { status: res.status, lockData: res.lockData, [asyncDispose]: async () => {} };
    }
    const db = this.#database.known ?? (await this.#database.get());
    const owner = { processHash: res.identity.processHash, seq: res.seq };
    let lockData = res.lockData;
    const extend: Extend = async () => {
      if (!this.#identity.isAlive(res.identity)) {
        // A lapse is final: others may already have taken the lock, so extending it would only hide that.
        throw new LockError(key, lockData.ownerHash, null, LAPSED_REASON);
      }
      const result = await extendLock(db, key, owner, this.#options.lockTtlMs);
      if (result.status === LockStatus.SUCCESS) lockData = result.lockData;
      return result;
    };
    return { status: LockStatus.SUCCESS, lockData, extend, [asyncDispose]: async () => void (await this.release(key, lockData)) };
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
    const own = this.#held.find(lockData.ownerHash);
    if (!own || own.key !== key) return notOurs(await this.#database.get(), key, lockData);
    if ("byRun" in own && own.byRun) {
      throw new TypeError(
        `pulselock: release() refused: the lock on ${JSON.stringify(key)} (${lockData.ownerHash}) belongs to an ` +
          "acquireAndRun() or mutex() of this Locker, which releases it when its function returns; make the job return instead",
      );
    }
    // A release of this very lock already out: this call answers as it would right after that one (NO_KEY, say), not
    // with a second SUCCESS for one lock (both would read the record before either deletes it).
    const running = this.#releasing.get(lockData.ownerHash);
    if (running) {
      await running.catch(() => {});
      return this.release(key, lockData);
    }
    this.#held.unorphan(lockData.ownerHash);
    const releasing = this.#releaser.release(key, own.owner, Infinity);
    this.#releasing.set(lockData.ownerHash, releasing);
    try {
      return await releasing;
    } catch (error) {
      // After an error the lock may still be ours: a later release() must still be able to free it.
      this.#held.orphaned(lockData.ownerHash, own);
      throw error;
    } finally {
      this.#releasing.delete(lockData.ownerHash);
      this.#held.forget(lockData.ownerHash);
    }
  }

  /** Reads who holds a lock. Returns "maybe_unlocked" when nobody does or the holder's process is dead. */
  async readLockData(key: string): Promise<LockData | "maybe_unlocked"> {
    assertLockName(key, "readLockData");
    return readLiveHolder(await this.#database.get(), key);
  }

  /** For debugging: is the run with this owner hash still holding its lock, in a live process? */
  async readOwnerHashStatus(ownerHash: string): Promise<OwnerHashStatusResult> {
    return readOwnerHashStatus(await this.#database.get(), ownerHash);
  }

  /**
   * Stops this Locker: running jobs are told they lost their locks (their
   * signals abort), the liveness record is deleted, so the fleet may take
   * every lock of this Locker at once, and the thread and connections it
   * opened are closed. The Locker cannot be used afterwards.
   */
  terminate(): Promise<void> {
    // A second call (two shutdown handlers) waits for the first one's work, so that closing the client after it is safe.
    return (this.#terminating ??= this.#terminate());
  }

  async #terminate(): Promise<void> {
    this.#terminated = true;
    this.#detach();
    this.#unwatchClient();
    this.#identity.lapse(Infinity, "the Locker was terminated");
    // An acquisition still waiting for Redis (a stalled connection may never answer) rejects now; a lock its script
    // wrote anyway is under an identity that is over, so the fleet takes it over at once.
    this.#database.ended.end(new LockerTerminatedError());
    this.#held.endAll();
    await this.#mutex.close();
    await this.#liveness.terminate();
  }

  /** A call's trace and waitUntil (its own, else the Locker's); a bad waitUntil is a TypeError. */
  #callOptions(traceOrOptions: string | RunOptions | undefined, method: string): { trace: string | undefined; waitUntil: WaitUntil | undefined } {
    if (typeof traceOrOptions !== "object" || traceOrOptions === null) return { trace: traceOrOptions, waitUntil: this.#options.waitUntil };
    assertKnownOptions(`${method}()`, traceOrOptions, RUN_OPTION_NAMES);
    const { trace, waitUntil } = traceOrOptions;
    if (waitUntil !== undefined && typeof waitUntil !== "function") {
      throw new TypeError(`pulselock: option waitUntil must be a function, got ${describe(waitUntil)}`);
    }
    return { trace, waitUntil: waitUntil ?? this.#options.waitUntil };
  }

  #assertOpen(): void {
    if (this.#terminated) throw new LockerTerminatedError();
  }
}
