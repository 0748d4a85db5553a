import type { RedisDatabase } from "./database";
import { LivenessError, isRedisCommandError } from "./errors";
import { fencedTtl } from "./fencing";
import type { Identity } from "./liveness";
import { REMOVE } from "./scripts/remove";
import { REPORT, reportArgs, reportLapsed } from "./scripts/report";
import { clearTimer, setTimer, unrefTimer } from "./timers";

/** What a {@link LivenessLoop} needs; a platform's liveness builds it from the Locker's options. */
export interface LivenessLoopOptions {
  /** How often to rewrite the record (the Locker's `reportWriteMs`). */
  reportWriteMs: number;
  /** The record's TTL (the Locker's `reportTtlMs`); also how late a reply may come before the write counts as a lapse. */
  reportTtlMs: number;
  /** The monotonic clock (ms) on which send times are measured, so that wall-clock steps cannot move a deadline. */
  now: () => number;
  /** The liveness record's value: who the process is, for people reading Redis. */
  data: string;
  /**
   * A write succeeded; `sentAt` (its send time, not its reply time) moves the owner's self-fencing deadline. Called
   * for the newest success only, and for every success of the loop's own timer chain (`byLoop`: the writes start()
   * began, in the caller's context), so that a start waiting for its first write learns of it even when a caller's
   * own write (writeOnce) came back first; a beat's write (byLoop false) may come from any request. Paced, a failed
   * write of that chain also reports the newest success (byLoop) when a caller's own write has written the identity.
   */
  onWritten: (identity: Identity, sentAt: number, byLoop: boolean) => void;
  /** The record may have expired: every lock held under `identity` is lost, whatever happens next. */
  onLapse: (identity: Identity) => void;
  /** A write failed without (yet) being a lapse; reported to `locker.errors` rather than thrown. */
  onError: (error: unknown) => void;
  /**
   * The first write of `identity` failed with an error that no retry can fix
   * (NOPERM, WRONGPASS, WRONGTYPE, UNAUTHORIZED, …): the loop gives that
   * identity up, so that the acquire waiting for it fails now with the cause
   * instead of after reporterWorkerSpawnTimeoutMs with a timeout.
   */
  onRefused: (identity: Identity, error: unknown) => void;
  /** Optional (instrumentation): how long each write took, and whether it succeeded. */
  onWriteTime?: (durationMs: number, ok: boolean) => void;
  /**
   * Rewrites after the first success are driven by {@link LivenessLoop.beat},
   * called from the timers of the requests that hold locks, instead of by the
   * loop's own timer. On runtimes with request contexts (Cloudflare Workers) a
   * timer dies with the request that set it, and the request that started the
   * loop may end long before the last lock is released.
   */
  paced?: boolean;
}

/**
 * Writes one liveness record every reportWriteMs. It runs wherever the
 * platform puts it (a worker thread on Node, the isolate itself on edge).
 *
 * A lapse is final: when a rewrite finds the record gone (XX answers nil), or
 * its reply comes after the previous write could have expired, the identity
 * is dead for good, and the loop stops writing it. The owner of the locks then
 * starts a new identity, so the locks of the old one stay free for others.
 */
export class LivenessLoop {
  #identity: Identity | undefined;
  #lastSentAt: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #failures = 0;
  /**
   * The write that is out, and when it left: one at a time, whoever asks for it. One out for longer than
   * reportWriteMs no longer holds the next back: on Cloudflare Workers a write whose request ended before its reply
   * never settles, and waiting for it would stop the rewrites for good.
   */
  #inFlight: { identity: Identity; sentAt: number } | undefined;

  readonly #db: RedisDatabase;
  readonly #o: LivenessLoopOptions;

  constructor(db: RedisDatabase, o: LivenessLoopOptions) {
    this.#db = db;
    this.#o = o;
  }

  /** Starts writing `identity` at once; a write of an earlier identity still in flight is ignored when it returns. */
  start(identity: Identity): void {
    this.#identity = identity;
    this.#lastSentAt = undefined;
    this.#failures = 0;
    clearTimer(this.#timer);
    void this.#tick(identity, true);
  }

  /** Stops, and deletes the current record so that its locks are free at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimer(this.#timer);
    const identity = this.#identity;
    this.#identity = undefined;
    if (identity) await this.#db.run(REMOVE, [this.#db.processKey(identity.processHash)], []);
  }

  /**
   * Paced loops: rewrites now if a rewrite is due and none is out, and gives the write (it never rejects). Cheap: no
   * network call otherwise.
   */
  beat(): Promise<void> | undefined {
    const identity = this.#identity;
    if (!identity || this.#stopped || this.#busy(identity) || this.#lastSentAt === undefined) return undefined;
    return this.#o.now() >= this.#lastSentAt + this.#o.reportWriteMs ? this.#tick(identity, false) : undefined;
  }

  /** Whether a write of `identity` is out and not yet overdue (see #inFlight). */
  #busy(identity: Identity): boolean {
    const out = this.#inFlight;
    return out !== undefined && out.identity === identity && this.#o.now() - out.sentAt < this.#o.reportWriteMs;
  }

  /** A write sent at `sentAt` succeeded: the newest success moves the deadline, an older one nothing. */
  #succeeded(sentAt: number): boolean {
    if (this.#lastSentAt !== undefined && sentAt <= this.#lastSentAt) return false;
    this.#lastSentAt = sentAt;
    return true;
  }

  /**
   * One write of `identity` from the caller (its request's I/O), for a caller
   * that must not wait on the write of another request. A rewrite (XX) once the
   * loop has written the identity, so that a lapsed record is never brought
   * back. Its success is reported as the loop's own are (onWritten, not byLoop).
   */
  async writeOnce(identity: Identity): Promise<void> {
    // An identity the loop no longer writes is over: writing it again could bring a lapsed record back.
    if (this.#identity !== identity) throw new LivenessError("pulselock: this process's liveness record was replaced or lapsed");
    const sentAt = this.#o.now();
    const outcome = await this.#write(identity, this.#lastSentAt !== undefined);
    if (outcome === "lapsed") {
      if (this.#identity === identity) this.#lapse(identity);
      throw new LivenessError("pulselock: this process's liveness record lapsed");
    }
    // It counts for the loop too: rewrites (XX) follow it, even when the loop's own first write never came back.
    if (this.#identity === identity && this.#succeeded(sentAt)) this.#o.onWritten(identity, sentAt, false);
  }

  /** One REPORT (and the replicas' WAIT): "lapsed" when a rewrite found the record gone. */
  async #write(identity: Identity, rewrite: boolean): Promise<"written" | "lapsed"> {
    const db = this.#db;
    const key = db.processKey(identity.processHash);
    const reply = await db.run(REPORT, [key], reportArgs(this.#o.data, this.#o.reportTtlMs, rewrite));
    if (reportLapsed(reply, rewrite)) return "lapsed";
    if (db.waitForReplicas > 0) await db.replicated("report", key);
    return "written";
  }

  /** One write; `byLoop`: sent by the loop's own timer chain (start() and its retries), not by a beat. */
  async #tick(identity: Identity, byLoop: boolean): Promise<void> {
    if (this.#stopped || this.#identity !== identity || this.#busy(identity)) return;
    const { now, reportTtlMs, reportWriteMs } = this.#o;
    const sentAt = now();
    const rewrite = this.#lastSentAt !== undefined;
    const out = (this.#inFlight = { identity, sentAt });
    try {
      const outcome = await this.#write(identity, rewrite);
      this.#o.onWriteTime?.(now() - sentAt, outcome === "written");
      if (this.#identity !== identity) return;
      // Late against the newest success so far (another write may have succeeded meanwhile; a rewrite follows one):
      // the record may have expired in between, and a lapse is final.
      if (rewrite && (outcome === "lapsed" || now() >= this.#lastSentAt! + fencedTtl(reportTtlMs))) return this.#lapse(identity);
      if (this.#succeeded(sentAt) || byLoop) this.#o.onWritten(identity, sentAt, byLoop);
    } catch (error) {
      this.#o.onWriteTime?.(now() - sentAt, false);
      if (this.#identity !== identity) return;
      const previous = this.#lastSentAt;
      if (previous === undefined && isRedisCommandError(error) && !error.transient) {
        this.#identity = undefined;
        return this.#o.onRefused(identity, error);
      }
      this.#o.onError(error);
      if (previous !== undefined && now() >= previous + fencedTtl(reportTtlMs)) return this.#lapse(identity);
      // Paced, the start's chain ends here; a caller's own write (writeOnce) has written the identity meanwhile. Its
      // start learns of that now, from the start's own write (its request), instead of waiting for a write it will
      // never send and timing out with the record in place.
      if (this.#o.paced && byLoop && previous !== undefined) this.#o.onWritten(identity, previous, true);
    } finally {
      if (this.#inFlight === out) this.#inFlight = undefined;
    }
    if (this.#stopped || this.#identity !== identity) return;
    // Paced: the holders' beats take it from here (also the retries of a failed rewrite).
    if (this.#o.paced && this.#lastSentAt !== undefined) return;
    // Before the first success, retry soon and then back off; afterwards keep the cadence from the send time.
    const next = this.#lastSentAt === undefined ? Math.min(reportWriteMs, 125 * 2 ** Math.min(++this.#failures, 10)) : sentAt + reportWriteMs - now();
    this.#timer = unrefTimer(setTimer(() => void this.#tick(identity, byLoop), Math.max(0, next)));
  }

  #lapse(identity: Identity): void {
    // start() resets the rest: nothing else runs for this identity.
    this.#identity = undefined;
    this.#o.onLapse(identity);
  }
}
