import { badArgument } from "./arguments";
import type { Heartbeat } from "./heartbeater";
import type { Job } from "./job-runner";
import { assertLockName } from "./keys";
import type { LockData } from "./lock-data";
import { mutexCall } from "./mutex-waiter";
import type { Extend, MutexOptions, ReleaseResult, RunOptions, WaitUntil } from "./results";
import type { Permits } from "./semaphore-permits";
import { assertKnownOptions } from "./option-names";
import { LockStatus } from "./statuses";

const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ?? (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);

/**
 * `value`, made AsyncDisposable by `dispose`. Assigned rather than written as a computed key of the literal: on
 * Node 20 a literal with a computed key takes V8's slow path (~0.6 µs, on every acquire).
 */
function disposable<T extends object>(value: T, dispose: () => Promise<void>): T & AsyncDisposable {
  (value as T & AsyncDisposable)[asyncDispose] = dispose;
  return value as T & AsyncDisposable;
}

/**
 * The largest `limit` of a semaphore. An acquisition that finds the semaphore at its limit reads every permit in
 * one script step, and a refusal carries every holder's record back; a thousand keeps both well under a
 * millisecond of Redis time and a reply of ~100 kB. A larger pool of workers rarely needs a count held in Redis.
 */
export const MAX_SEMAPHORE_LIMIT = 1000;

/** Options of {@link Locker.semaphore}. */
export interface SemaphoreOptions {
  /**
   * How many holders may hold a permit at once: a whole number in [1, 1000]. It is this caller's limit, checked
   * at each acquisition, not stored: lowering it never evicts a holder (new acquisitions wait until fewer than the
   * new limit hold), raising it lets more in at once. Processes that use different limits for one key hold at most
   * the largest of them.
   */
  limit: number;
}

/**
 * What a semaphore's acquireAndRun() returns: `SUCCESS` with what `fn` returned (the permit is released again),
 * or `SOMEONE_ELSE_HOLDS_LOCK` with the records of the live holders of all `limit` permits (`fn` did not run).
 */
export type SemaphoreRunResult<T> =
  { status: LockStatus.SUCCESS; result: T; holders?: never } | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; holders: LockData[]; result?: never };

/**
 * What a semaphore's acquire() found: `SUCCESS` with the permit's record (its fencing token, owner hash, times)
 * and `extend`, or `SOMEONE_ELSE_HOLDS_LOCK` with the live holders. Both are AsyncDisposable: `await using`
 * releases a held permit.
 */
export type PermitResult =
  | ({ status: LockStatus.SUCCESS; lockData: LockData; extend: Extend; holders?: never } & AsyncDisposable)
  | ({ status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; holders: LockData[]; lockData?: never; extend?: never } & AsyncDisposable);

/** What a Semaphore needs from its Locker. */
interface SemaphoreContext {
  permits: Permits;
  /** A call's trace and waitUntil (the Locker's waitUntil when the call names none); a TypeError for bad ones. */
  /** `method` names the call in the TypeError for an unknown option name. */
  callOptions(traceOrOptions: string | RunOptions | undefined, method: string): { trace: string | undefined; waitUntil: WaitUntil | undefined };
  assertOpen(): void;
}

/** Checks {@link SemaphoreOptions} (a TypeError before anything reaches Redis) and gives the limit. */
export function semaphoreLimit(options: unknown): number {
  const limit = (options as Partial<SemaphoreOptions> | null | undefined)?.limit;
  if (typeof options !== "object" || options === null || !Number.isInteger(limit) || limit! < 1 || limit! > MAX_SEMAPHORE_LIMIT) {
    throw badArgument(
      `semaphore() needs options { limit } with limit a whole number in [1, ${MAX_SEMAPHORE_LIMIT}]`,
      typeof options === "object" && options !== null ? limit : options,
    );
  }
  assertKnownOptions("semaphore()", options, ["limit"]);
  return limit!;
}

/**
 * At most `limit` concurrent holders of one key across the fleet, each with a lock's guarantees: a permit is kept
 * alive by its process's liveness record (a dead holder's permit is free to others within reportTtlMs, and
 * terminate() frees them at once), its run heartbeats, aborts and stops (seppuku, self-fencing) exactly like a
 * lock's, and each permit carries a fencing token that strictly increases per key. Made by
 * {@link Locker.semaphore}; holds nothing by itself, so make one wherever it is handy.
 */
export class Semaphore {
  readonly #c: SemaphoreContext;
  readonly #ref: { key: string; limit: number };

  /** @internal */
  constructor(context: SemaphoreContext, key: string, options: SemaphoreOptions) {
    assertLockName(key, "semaphore");
    this.#ref = { key, limit: semaphoreLimit(options) };
    this.#c = context;
  }

  /** The semaphore's name. A lock of the same name is another thing: they do not exclude each other. */
  get key(): string {
    return this.#ref.key;
  }

  /** {@inheritDoc SemaphoreOptions.limit} */
  get limit(): number {
    return this.#ref.limit;
  }

  /**
   * Takes a permit if fewer than `limit` live holders have one (a dead holder's permit is taken over), runs `fn`
   * while holding it, and always releases it afterwards. Returns SOMEONE_ELSE_HOLDS_LOCK without running `fn` when
   * all permits are held. `fn` gets the same heartbeat as a lock's job (its `lockData` is the permit's record); if
   * the permit is lost while `fn` runs, the heartbeat throws, the signal aborts, and this call rejects with the
   * LockError even if `fn` returned.
   */
  acquireAndRun<T>(fn: (heartbeat: Heartbeat, ownerHash: string) => Promise<T> | T, traceOrOptions?: string | RunOptions): Promise<SemaphoreRunResult<T>> {
    try {
      const { trace, waitUntil } = this.#c.callOptions(traceOrOptions, "acquireAndRun");
      return this.#c.permits.run(this.#ref, fn as Job<T>, trace, "", waitUntil);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Waits until a permit is free, then runs `fn` under it like acquireAndRun() and returns its result. Waiting is
   * mutex()'s: capped exponential backoff with jitter, and on Node a release wakes waiters at once (pub/sub).
   * Throws MutexError after `timeoutMs` (naming the holder of the oldest permit), or the signal's reason.
   */
  async waitAndRun<T>(options: MutexOptions, fn: (heartbeat: Heartbeat) => Promise<T> | T): Promise<T> {
    const call = mutexCall(this.#ref.key, options, fn, undefined, undefined, "waitAndRun");
    this.#c.assertOpen();
    return this.#c.permits.wait(this.#ref, call, fn, call.options.waitUntil ?? this.#c.callOptions(undefined, "waitAndRun").waitUntil);
  }

  /**
   * Low-level: takes a permit if one is free. Use acquireAndRun() when you can; with acquire() you must call
   * extend() yourself (more often than lockTtlMs) and release() at the end, or use `await using` on the result.
   */
  async acquire(traceOrOptions?: string | RunOptions): Promise<PermitResult> {
    const { trace, waitUntil } = this.#c.callOptions(traceOrOptions, "acquire");
    const res = await this.#c.permits.acquireOwn(this.#ref, trace, waitUntil);
    if (res.status !== LockStatus.SUCCESS) return disposable({ status: res.status, holders: res.holders }, async () => {});
    let lockData = res.lockData;
    const extend: Extend = async () => {
      const result = await this.#c.permits.extendOwn(res);
      if (result.status === LockStatus.SUCCESS) lockData = result.lockData;
      return result;
    };
    return disposable({ status: LockStatus.SUCCESS, lockData, extend }, async () => void (await this.release(lockData)));
  }

  /**
   * Releases a permit that this semaphore's acquire() took: SUCCESS, or NO_KEY when it was gone already (taken
   * over after this process's liveness lapsed, or expired). Any other lockData frees nothing. Transient errors are
   * retried until lockTtlMs has passed.
   */
  release(lockData: LockData): Promise<ReleaseResult> {
    return this.#c.permits.release(this.#ref.key, lockData);
  }

  /** The live holders' records (owner hash, trace, token, acquiredAt, extendedAt), oldest token first. A snapshot, stale as soon as it returns. */
  readHolders(): Promise<LockData[]> {
    return this.#c.permits.readHolders(this.#ref.key);
  }
}
