import { DrainingSignal, LAPSED_REASON, LockError, OVERWRITTEN_REASON, RunEndedError, isCorruptRecordError, isLockError } from "./errors";
import { fencedTtl } from "./fencing";
import { Heartbeater, type Heartbeat } from "./heartbeater";
import type { LockData } from "./lock-data";
import type { Identity, Liveness } from "./liveness";
import { describe } from "./describe-value";
import type { ResolvedOptions } from "./options";
import { toRedisCommandError } from "./redis-errors";
import type { ExtendResult } from "./results";
import { LockStatus } from "./statuses";
import { clearTimer, setTimer, sleep, unrefTimer } from "./timers";

/** How far ahead of this thread's clock a liveness write's send time may be before the clock counts as stalled. */
const STALLED_CLOCK_MS = 1000;

/**
 * What a run does to what it holds (a lock, a semaphore permit, a set of locks): extend it, and read who holds it
 * now. Both throw CorruptRecordError when the record is not pulselock's, and RedisCommandError when Redis fails; ops
 * that know better than the run which part was lost (a set: which key) throw that LockError, and the run loses with it.
 */
export interface HoldOps {
  /** Extends it by lockTtlMs: SUCCESS with the new record, or who (if anyone) holds it now. */
  extend(): Promise<ExtendResult>;
  /** Its current record if the run still holds it; someone else's record, or null when it is gone. */
  holder(): Promise<LockData | null>;
}

export interface LockRunParams {
  key: string;
  /** Extends and rechecks the hold. */
  ops: HoldOps;
  lockData: LockData;
  identity: Identity;
  seq: string;
  /** When the acquiring script was sent, on the liveness clock: it counts as the first extension. */
  sentAt: number;
  options: ResolvedOptions;
  liveness: Liveness;
  onLost: (error: LockError) => void;
  onError: (error: unknown) => void;
}

const RUN = Symbol("pulselock.run");

/**
 * What every heartbeat inherits: live views of its run (the signal is made on
 * first use, lockData moves with extensions). One shared prototype instead of
 * two getters defined on each heartbeat: defining accessors costs ~2 µs per
 * job, a prototype switch ~0.2 µs.
 */
const HEARTBEAT_PROTO: object = Object.create(Function.prototype, {
  signal: {
    get(this: { [RUN]: LockRun }) {
      return this[RUN].signal;
    },
  },
  lockData: {
    get(this: { [RUN]: LockRun }) {
      return this[RUN].lockData;
    },
    enumerable: true,
  },
});

const nativeGetter = (name: "aborted" | "reason"): ((this: AbortSignal) => unknown) | undefined =>
  Object.getOwnPropertyDescriptor(AbortSignal.prototype, name)?.get as ((this: AbortSignal) => unknown) | undefined;

/**
 * Makes every check a job can make on its signal exact: `aborted`, `reason`
 * and `throwIfAborted()` first compare the self-fencing deadline with the
 * monotonic clock. A timer alone is not enough: after a freeze (SIGSTOP, a
 * blocked loop) overdue timers run in due order, so a job's own timer could
 * run before ours and see a signal that should already have aborted.
 */
export function exactSignal(signal: AbortSignal, check: () => void): void {
  const aborted = nativeGetter("aborted");
  const reason = nativeGetter("reason");
  const throwIfAborted = (AbortSignal.prototype as Partial<AbortSignal>).throwIfAborted;
  if (!aborted || !reason) return; // an AbortSignal we cannot wrap: the deadline timer still aborts it
  try {
    Object.defineProperties(signal, {
      aborted: { get: () => (check(), aborted.call(signal)), configurable: true },
      reason: { get: () => (check(), reason.call(signal)), configurable: true },
      throwIfAborted: {
        value: () => {
          check();
          if (throwIfAborted) return throwIfAborted.call(signal);
          if (aborted.call(signal)) throw reason.call(signal);
        },
        configurable: true,
        writable: true,
      },
    });
  } catch {
    // A frozen host object: the deadline timer still aborts it.
  }
}

/** How long delay() sleeps at most between two heartbeats. */
const DELAY_QUANTUM_MS = 1000;

/**
 * heartbeat.delay(ms), for a lock's run and a set's alike: sleeps in steps of at most a second (and lockRecheckMs),
 * heartbeating before each, so that a lost lock ends the sleep at once.
 */
export async function delayWithHeartbeats(
  ms: number,
  run: { heartbeat(): Promise<void>; readonly signal: AbortSignal },
  clock: Pick<Liveness, "now">,
  lockRecheckMs: number,
): Promise<void> {
  if (typeof ms !== "number" || Number.isNaN(ms) || ms < 0) {
    throw new TypeError(`pulselock: heartbeat.delay() needs a non-negative number of ms, got ${describe(ms)}`);
  }
  const end = clock.now() + ms;
  for (;;) {
    await run.heartbeat();
    const left = end - clock.now();
    if (left <= 0) return;
    await sleep(Math.min(left, DELAY_QUANTUM_MS, lockRecheckMs), run.signal);
  }
}

/**
 * The life of one held lock inside acquireAndRun(): heartbeats, extensions,
 * rechecks, and the self-fencing deadline that aborts the run no later than
 * the earliest moment someone else could take the lock, whether or not the
 * owner calls heartbeat() and whether or not Redis answers.
 */
export class LockRun {
  /**
   * Made on first use (most jobs never read their signal): an AbortController
   * costs more than the rest of a run's setup. A reason that came first is kept
   * in #abortReason, so a signal made later is born aborted with it.
   */
  #controller: AbortController | undefined;
  #abortReason: LockError | DrainingSignal | RunEndedError | undefined;
  #lostError: LockError | undefined;
  #lastExtendSentAt: number;
  #lastExtendAt: number;
  #lastRecheckAt: number;
  #inflight: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #finished = false;
  readonly #stopListening: () => void;
  /** Settles when the lock is lost; made only when a heartbeat waits on a check. */
  #lostPromise: Promise<never> | undefined;
  #rejectLost: ((error: LockError) => void) | undefined;
  lockData: LockData;

  readonly #p: LockRunParams;

  constructor(p: LockRunParams) {
    this.#p = p;
    this.lockData = p.lockData;
    this.#lastExtendSentAt = this.#lastExtendAt = this.#lastRecheckAt = p.sentAt;
    this.#stopListening = Heartbeater.listen(this);
    if (Heartbeater.drainingReason !== null) this.drain(Heartbeater.drainingReason);
    this.#armDeadline();
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      // A run that ended without a signal made no RunEndedError yet (see finish()): one made now is born aborted with it.
      if (!this.#abortReason && this.#finished) this.#abortReason = new RunEndedError(this.#p.key, this.lockData.ownerHash);
      if (this.#abortReason) this.#controller.abort(this.#abortReason);
      exactSignal(this.#controller.signal, () => this.#checkDeadline());
    }
    return this.#controller.signal;
  }

  get lost(): LockError | undefined {
    return this.#lostError;
  }

  /** The heartbeat function handed to the user's job. */
  createHeartbeat(): Heartbeat {
    const heartbeat = (() => this.heartbeat()) as Heartbeat & { heartbeat: Heartbeat; delay: Heartbeat["delay"]; [RUN]: LockRun };
    heartbeat.heartbeat = heartbeat;
    heartbeat.delay = (ms: number) => this.delay(ms);
    heartbeat[RUN] = this;
    return Object.setPrototypeOf(heartbeat, HEARTBEAT_PROTO) as Heartbeat;
  }

  async heartbeat(): Promise<void> {
    if (this.#finished) throw new RunEndedError(this.#p.key, this.lockData.ownerHash);
    const draining = Heartbeater.drainingReason;
    if (draining !== null) throw new DrainingSignal(this.#p.key, draining);
    this.#checkDeadline();
    if (this.#lostError) throw this.#lostError;
    if (!this.#inflight) {
      const now = this.#p.liveness.now();
      if (now - this.#lastExtendAt >= this.#p.options.lockExtendMs) {
        this.#lastExtendAt = this.#lastRecheckAt = now; // before the call: concurrent heartbeats coalesce
        this.#inflight = this.#settle(this.#extend());
      } else if (now - this.#lastRecheckAt >= this.#p.options.lockRecheckMs) {
        this.#lastRecheckAt = now;
        this.#inflight = this.#settle(this.#recheck());
      } else {
        return;
      }
    }
    await Promise.race([this.#inflight, this.#lost()]);
    // Judged again as it returns: a reply read after the thread was blocked past the deadline (and before the
    // overdue deadline timer ran) says "ours" about a time when others could already take the lock.
    this.#checkDeadline();
    if (this.#lostError) throw this.#lostError;
  }

  delay(ms: number): Promise<void> {
    return delayWithHeartbeats(ms, this, this.#p.liveness, this.#p.options.lockRecheckMs);
  }

  drain(reason: string): void {
    this.#abort(new DrainingSignal(this.#p.key, reason));
  }

  /**
   * The job is over: stop the deadline timer and stop listening for draining.
   * A heartbeat or signal that the job handed on (a timer, a request still in
   * flight) is over too: the signal aborts, later heartbeats throw, so nothing
   * keeps acting on a lock that is being released.
   */
  finish(): void {
    // A job that blocked its thread past the deadline ends lost, even though no timer could fire.
    this.#checkDeadline();
    this.#finished = true;
    clearTimer(this.#timer);
    this.#stopListening();
    // Most jobs never read their signal: the RunEndedError (an Error, whose stack costs µs) is made once one exists.
    if (this.#controller) this.#abort(new RunEndedError(this.#p.key, this.lockData.ownerHash));
  }

  /** Whether `at` (on the liveness clock) came before this run's self-fencing deadline: nobody else could hold the lock yet. */
  heldAt(at: number): boolean {
    return at < this.#deadline();
  }

  /** Marks the lock lost: the signal aborts and every later heartbeat throws `error`. */
  lose(error: LockError): void {
    if (this.#lostError || this.#finished) return;
    this.#lostError = error;
    clearTimer(this.#timer);
    this.#abort(error);
    this.#rejectLost?.(error);
    this.#p.onLost(error);
  }

  /** Aborts the signal with the first reason only, whether or not the signal exists yet. */
  #abort(reason: LockError | DrainingSignal | RunEndedError): void {
    if (this.#abortReason) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  #lost(): Promise<never> {
    if (!this.#lostPromise) {
      this.#lostPromise = new Promise<never>((_, reject) => (this.#rejectLost = reject));
      this.#lostPromise.catch(() => {});
      if (this.#lostError) this.#rejectLost!(this.#lostError);
    }
    return this.#lostPromise;
  }

  /**
   * The earliest moment, on the liveness clock, at which another process may
   * take this lock: when the liveness record or the lock record may have
   * expired, counted from the send time of their last successful writes.
   */
  #deadline(live = this.#p.liveness.lastWriteSentAt(this.#p.identity.generation)): number {
    if (live === undefined) return -Infinity;
    const { reportTtlMs, lockTtlMs } = this.#p.options;
    return Math.min(live + fencedTtl(reportTtlMs), this.#lastExtendSentAt + fencedTtl(lockTtlMs));
  }

  /** Loses the lock when its deadline has passed; otherwise answers how long until it does (ms), for the timer. */
  #checkDeadline(): number {
    if (this.#lostError || this.#finished) return Infinity;
    // Read once each: every run reads them as it starts and ends (a clock read and the shared write time cost µs).
    // The write time first: read after it, a running clock is past it, however long this thread stalls in between.
    const live = this.#p.liveness.lastWriteSentAt(this.#p.identity.generation);
    const now = this.#p.liveness.now();
    const left = this.#deadline(live) - now;
    // A liveness write sent later than now: this thread's clock stands still while the writer's thread runs (fake
    // timers that no reference escapes, as in Bun's test runner). Nothing measured on it can be trusted.
    const stalled = live !== undefined && live - now > STALLED_CLOCK_MS;
    if (left <= 0 || stalled) {
      const reason = stalled
        ? "this thread's clock stands still while its liveness writer's runs (fake timers?)"
        : live === undefined
          ? LAPSED_REASON
          : "the self-fencing deadline passed without a successful lock extension or liveness write";
      this.lose(new LockError(this.#p.key, this.lockData.ownerHash, null, reason));
      if (stalled) return 0;
    }
    return left;
  }

  /** Re-arms itself at each deadline: a deadline that moved (fresh writes) just re-arms. */
  #armDeadline(): void {
    clearTimer(this.#timer);
    const left = this.#checkDeadline();
    if (this.#lostError || this.#finished) return;
    const wait = Math.min(left + 1, 2 ** 31 - 1);
    this.#timer = unrefTimer(setTimer(() => this.#armDeadline(), Math.max(1, wait)));
  }

  async #extend(): Promise<void> {
    const sentAt = this.#p.liveness.now();
    const result = await this.#call("extend", () => this.#p.ops.extend());
    if (result === undefined) return;
    const { status, lockData } = result;
    if (status === LockStatus.SUCCESS) {
      this.lockData = lockData;
      this.#lastExtendSentAt = sentAt;
      this.#armDeadline();
    } else {
      this.lose(new LockError(this.#p.key, this.lockData.ownerHash, lockData));
    }
  }

  async #recheck(): Promise<void> {
    const holder = await this.#call("recheck", () => this.#p.ops.holder());
    // undefined: the check failed, and #call has dealt with it; a record that is not pulselock's loses the lock there.
    if (holder === undefined) return;
    if (holder?.ownerHash !== this.lockData.ownerHash) this.lose(new LockError(this.#p.key, this.lockData.ownerHash, holder));
  }

  /** An in-flight check never rejects (it may outlive the heartbeat that started it): failures go to errors. */
  #settle(check: Promise<void>): Promise<void> {
    return check.catch(this.#p.onError).finally(() => (this.#inflight = undefined));
  }

  /** Runs a heartbeat call; transient failures are reported and left to the deadline, others lose the lock. */
  async #call<R>(what: string, fn: () => Promise<R>): Promise<R | undefined> {
    try {
      return await fn();
    } catch (error) {
      const lost = heartbeatCallLoss(what, error, this.#p.key, this.lockData.ownerHash);
      if (lost) this.lose(lost);
      else this.#p.onError(toRedisCommandError(what, error));
      return undefined;
    }
  }
}

/**
 * What a failed heartbeat call (`what`: extend, recheck) of the lock `key` means: the LockError that loses it (the
 * one the ops threw, a record that is not pulselock's any more, a command Redis refuses), or undefined for a
 * transient failure, which is reported and left to the self-fencing deadline.
 */
export function heartbeatCallLoss(what: string, error: unknown, key: string, ownerHash: string): LockError | undefined {
  if (isLockError(error)) return error;
  if (isCorruptRecordError(error)) return new LockError(key, ownerHash, null, OVERWRITTEN_REASON);
  const e = toRedisCommandError(what, error);
  if (e.transient) return undefined;
  return new LockError(key, ownerHash, null, `Redis refused the ${what}: ${e.message}`, { cause: e });
}
