import type { RedisDatabase } from "./database";
import { LivenessError, isRedisCommandError } from "./errors";
import { fencedTtl } from "./fencing";
import type { Identity } from "./liveness";
import { REMOVE } from "./scripts/remove";
import { REPORT, reportArgs, reportLapsed } from "./scripts/report";
import { unrefTimer } from "./timers";

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
  /** A write succeeded; `sentAt` (its send time, not its reply time) moves the owner's self-fencing deadline. */
  onWritten: (identity: Identity, sentAt: number) => void;
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
  /** The identity whose write is out: one at a time, whoever asks for it. */
  #inFlight: Identity | undefined;

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
    clearTimeout(this.#timer);
    void this.#tick(identity);
  }

  /** Stops, and deletes the current record so that its locks are free at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const identity = this.#identity;
    this.#identity = undefined;
    if (identity) await this.#db.run(REMOVE, [this.#db.processKey(identity.processHash)], []);
  }

  /** Paced loops: rewrites now if a rewrite is due and none is out. Cheap: no network call otherwise. */
  beat(): void {
    const identity = this.#identity;
    if (!identity || this.#stopped || this.#inFlight === identity || this.#lastSentAt === undefined) return;
    if (this.#o.now() >= this.#lastSentAt + this.#o.reportWriteMs) void this.#tick(identity);
  }

  /**
   * One write of `identity` from the caller (its request's I/O), for a caller
   * that must not wait on the write of another request; resolves with its send
   * time. A rewrite (XX) once the loop has written the identity, so that a lapsed
   * record is never brought back.
   */
  async writeOnce(identity: Identity): Promise<number> {
    // An identity the loop no longer writes is over: writing it again could bring a lapsed record back.
    if (this.#identity !== identity) throw new LivenessError("pulselock: this process's liveness record was replaced or lapsed");
    const sentAt = this.#o.now();
    const outcome = await this.#write(identity, this.#lastSentAt !== undefined);
    if (outcome === "lapsed") {
      if (this.#identity === identity) this.#lapse(identity);
      throw new LivenessError("pulselock: this process's liveness record lapsed");
    }
    return sentAt;
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

  async #tick(identity: Identity): Promise<void> {
    if (this.#stopped || this.#identity !== identity || this.#inFlight === identity) return;
    const { now, reportTtlMs, reportWriteMs } = this.#o;
    const sentAt = now();
    const previous = this.#lastSentAt;
    this.#inFlight = identity;
    try {
      const outcome = await this.#write(identity, previous !== undefined);
      this.#o.onWriteTime?.(now() - sentAt, outcome === "written");
      if (this.#identity !== identity) return;
      if (previous !== undefined && (outcome === "lapsed" || now() >= previous + fencedTtl(reportTtlMs))) {
        return this.#lapse(identity);
      }
      this.#lastSentAt = sentAt;
      this.#o.onWritten(identity, sentAt);
    } catch (error) {
      this.#o.onWriteTime?.(now() - sentAt, false);
      if (this.#identity !== identity) return;
      if (previous === undefined && isRedisCommandError(error) && !error.transient) {
        this.#identity = undefined;
        return this.#o.onRefused(identity, error);
      }
      this.#o.onError(error);
      if (previous !== undefined && now() >= previous + fencedTtl(reportTtlMs)) return this.#lapse(identity);
    } finally {
      if (this.#inFlight === identity) this.#inFlight = undefined;
    }
    if (this.#stopped || this.#identity !== identity) return;
    // Paced: the holders' beats take it from here (also the retries of a failed rewrite).
    if (this.#o.paced && this.#lastSentAt !== undefined) return;
    // Before the first success, retry soon and then back off; afterwards keep the cadence from the send time.
    const next = this.#lastSentAt === undefined ? Math.min(reportWriteMs, 125 * 2 ** Math.min(++this.#failures, 10)) : sentAt + reportWriteMs - now();
    this.#timer = unrefTimer(setTimeout(() => void this.#tick(identity), Math.max(0, next)));
  }

  #lapse(identity: Identity): void {
    // start() resets the rest: nothing else runs for this identity.
    this.#identity = undefined;
    this.#o.onLapse(identity);
  }
}
