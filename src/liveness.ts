import type { WaitUntil } from "./results";
import type { DatabaseModule, RedisDatabase } from "./database";
import type { ReleaseWakeups } from "./release-wakeups";

/** One liveness record: a random process hash, and a generation that grows each time a record lapses. */
export interface Identity {
  /** Random, so that a restarted process (same host and pid) can never be mistaken for its dead predecessor. */
  readonly processHash: string;
  /** Grows with each new record of this Locker, so that a write or a lapse of an old record is never taken for the current one. */
  readonly generation: number;
}

/**
 * Keeps this process's liveness record fresh, from wherever the platform can
 * run code that the main thread cannot block (a worker thread, a Web Worker,
 * or the isolate's own timers on edge runtimes).
 */
export interface Liveness {
  /** Starts writing `identity` (replacing any earlier one); resolves after its first successful write. */
  start(identity: Identity): Promise<void>;
  /**
   * The send time, on {@link Liveness.now}'s clock, of the last successful
   * write of `generation`; undefined when that generation was never written,
   * was replaced, or lapsed. Synchronous, so it is current even right after
   * the main thread was blocked.
   */
  lastWriteSentAt(generation: number): number | undefined;
  /** The monotonic clock (ms) that write times are measured on. */
  now(): number;
  /**
   * Declares `generation` (and every earlier one) over for good, from the
   * main thread's side: lastWriteSentAt() answers undefined for it from now on.
   * `Infinity` retires every generation.
   */
  retire(generation: number): void;
  /**
   * Optional: nothing is held any more, so stop writing until the next start()
   * (edge isolates must not keep timers running; a thread may ignore this).
   * What it returns settles once the record is deleted (it may reject): the
   * Locker keeps the isolate alive (waitUntil) until then, for lockRecheckMs at most.
   */
  idle?(): Promise<void> | void;
  /**
   * Optional, for runtimes with request contexts: another call waits for the
   * first write of `identity`, which start() sent from another request. It
   * must not wait on that request's I/O (workerd would cancel it as hung), so
   * this writes the record itself, from the caller's request, and resolves
   * once that write succeeded.
   */
  join?(identity: Identity): Promise<void>;
  /**
   * Optional: true where liveness writes through the Locker's own client, and start() hands the first write to it
   * before it returns (once the database is loaded). A call sent right after then reaches Redis behind that write:
   * in the same HTTP request (the Upstash transport sends the calls of one microtask checkpoint together, in
   * order), or after it on the same connection.
   */
  readonly sendsWithCaller?: boolean;
  /**
   * Optional, for runtimes with request contexts: a lock is held by the
   * calling request until the returned function is called. Liveness writes
   * then go on from this request's own timers, so that they stop with no
   * request that ended before the lock's release (its timers die with it).
   * A write a beat sends goes to `waitUntil`: the request lives until its
   * reply, since workerd never settles the I/O of a request that ended.
   */
  keepWriting?(waitUntil: WaitUntil | undefined): () => void;
  /**
   * Stops writing and deletes the liveness record, which frees the process's
   * locks at once. A start() waiting for its first write rejects; later ones too.
   */
  terminate(): Promise<void>;
}

/** What a {@link Platform} needs to start liveness for one Locker. */
export interface LivenessParams {
  /** The Locker's `database` option, as given: a thread rebuilds its own client from it, since it cannot share the main thread's. */
  source: RedisDatabase | DatabaseModule;
  /**
   * The main thread's database, for liveness that runs in the same thread (edge isolates): the database itself
   * once loaded, so that a first write can leave without an await (see sendsWithCaller).
   */
  loadDatabase: () => RedisDatabase | Promise<RedisDatabase>;
  /** {@inheritDoc DEFAULTS.reportWriteMs} */
  reportWriteMs: number;
  /** {@inheritDoc DEFAULTS.reportTtlMs} */
  reportTtlMs: number;
  /** A background error that did not stop the liveness writes. */
  onError: (error: unknown) => void;
  /** The record of `generation` may have expired: every lock held under it is lost. */
  onLapse: (generation: number) => void;
  /**
   * Optional, set only when the Locker has instrumentation: each liveness write's duration and whether it
   * succeeded, delivered on the main thread wherever the write ran (a thread posts it; writes are seconds apart).
   */
  onWriteTime?: (durationMs: number, ok: boolean) => void;
}

/**
 * What differs between runtimes: where liveness runs, how a database
 * reference is loaded, and whether releases wake waiters through pub/sub.
 */
export interface Platform {
  /** For messages and tests: "node", "in-thread", … */
  readonly name: string;
  /** Starts nothing yet: the Locker calls start() on the first acquire, so that a Locker that never locks costs nothing. */
  createLiveness(params: LivenessParams): Liveness;
  /** Loads a database reference; rejects with a DatabaseLoadError after `timeoutMs`. */
  loadDatabase(reference: DatabaseModule, timeoutMs: number): Promise<RedisDatabase>;
  /**
   * Optional: pub/sub wake-ups for mutex() waiters. Runtimes whose clients
   * have no pub/sub (HTTP on edge) leave it out, so edge bundles do not
   * carry it; their waiters poll.
   */
  releaseWakeups?(db: RedisDatabase, onError: (error: unknown) => void): ReleaseWakeups;
  /**
   * True where each request runs in its own context and must not wait on
   * another request's I/O (Cloudflare Workers): batches then hold one
   * request's calls only (see Batcher).
   */
  readonly requestScoped?: boolean;
  /** True when the platform's own clock was a fake when pulselock loaded (see timersFakedAtLoad). */
  readonly clockFakedAtLoad?: boolean;
}

/**
 * Whether the writes of `liveness` reach Redis in the order they are sent among the calls on `db`
 * (sendsWithCaller): not on a cluster, where the liveness record lives on another node than the lock.
 */
export function inOrderWithCalls(liveness: Liveness, db: RedisDatabase): boolean {
  return !!liveness.sendsWithCaller && !db.transport.isCluster;
}
