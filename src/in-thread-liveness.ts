import { DatabaseLoadError, LivenessError, LockerTerminatedError } from "./errors";
import type { Identity, Liveness, LivenessParams, Platform } from "./liveness";
import type { WaitUntil } from "./results";
import { LivenessLoop } from "./liveness-loop";
import { clearTimer, monotonicNow, setTimer, unrefTimer } from "./timers";

/**
 * Liveness written by timers of the current thread. It is what runtimes
 * without threads have (edge isolates); a main thread that blocks also blocks
 * these writes, which is why Node uses a worker thread instead. It writes only
 * while the Locker holds something: idle() stops it.
 *
 * On Cloudflare Workers every timer and every I/O belongs to the request that
 * started it, and dies with it. So after the first write, rewrites are paced by
 * the holders: each request that holds a lock beats from its own timer
 * (keepWriting), and whichever beat finds a rewrite due sends it; a call that
 * needs an identity whose first write another request sent writes it itself
 * (join). No request ever waits on another request's I/O.
 */
export class InThreadLiveness implements Liveness {
  #loop: LivenessLoop | undefined;
  /** The send time of each generation's last write. */
  readonly #written = new Map<number, number>();
  /** The start() of each generation that still waits for its first write. */
  readonly #waiters = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #retired = 0;
  #terminated = false;

  readonly #p: LivenessParams;

  constructor(p: LivenessParams) {
    this.#p = p;
  }

  now(): number {
    return monotonicNow();
  }

  readonly sendsWithCaller = true;

  async start(identity: Identity): Promise<void> {
    // Once loaded, no await before the write: an acquire sent right after it must find it ahead (sendsWithCaller).
    const loaded = this.#p.loadDatabase();
    const db = loaded instanceof Promise ? await loaded : loaded;
    if (this.#terminated) throw new LockerTerminatedError();
    this.#loop ??= new LivenessLoop(db, {
      reportWriteMs: this.#p.reportWriteMs,
      reportTtlMs: this.#p.reportTtlMs,
      now: () => this.now(),
      data: "in-thread",
      paced: true,
      onWritten: ({ generation }, sentAt, byLoop) => {
        if (sentAt > (this.#written.get(generation) ?? -Infinity)) this.#written.set(generation, sentAt);
        // start()'s own writes only: its waiter belongs to its request, and a beat's write may be another request's.
        if (!byLoop) return;
        this.#waiters.get(generation)?.resolve();
        this.#waiters.delete(generation);
      },
      onLapse: ({ generation }) => {
        this.#written.delete(generation);
        this.#p.onLapse(generation);
      },
      onError: this.#p.onError,
      onWriteTime: this.#p.onWriteTime,
      onRefused: ({ generation }, error) => {
        this.#waiters.get(generation)?.reject(error as Error);
        this.#waiters.delete(generation);
      },
    });
    this.#written.clear();
    const first = new Promise<void>((resolve, reject) => this.#waiters.set(identity.generation, { resolve, reject }));
    this.#loop.start(identity);
    await first;
  }

  async join(identity: Identity): Promise<void> {
    // start() builds the loop after this same wait, and it began waiting first: the loop is there when this one ends.
    await this.#p.loadDatabase();
    const loop = this.#loop;
    if (!loop) throw new LivenessError("pulselock: the liveness loop stopped before its first write");
    // Reported through onWritten (not byLoop): the deadline moves, and the waiter of start() is left to its own request.
    await loop.writeOnce(identity);
  }

  keepWriting(waitUntil: WaitUntil | undefined): () => void {
    // A quarter of the interval: a rewrite is at most that late, far inside reportTtlMs.
    const periodMs = Math.max(1, this.#p.reportWriteMs / 4);
    let timer: ReturnType<typeof setTimeout>;
    const beat = () => {
      // The rewrite this beat sends keeps its request alive until the reply: a request that ended first would
      // leave it unsettled for good (workerd), and the loop would wait reportWriteMs before it sends another.
      const sent = this.#loop?.beat();
      if (sent) waitUntil?.(sent);
      timer = unrefTimer(setTimer(beat, periodMs));
    };
    timer = unrefTimer(setTimer(beat, periodMs));
    return () => clearTimer(timer);
  }

  lastWriteSentAt(generation: number): number | undefined {
    return generation <= this.#retired ? undefined : this.#written.get(generation);
  }

  retire(generation: number): void {
    this.#retired = Math.max(this.#retired, generation);
  }

  /**
   * No lock is held: stop the timer loop and delete the record; the next acquire writes a new identity.
   * Settles when the delete is done, so that waitUntil can keep the isolate alive for it; the caller handles
   * its failure.
   */
  idle(): Promise<void> | void {
    const loop = this.#loop;
    this.#loop = undefined;
    for (const generation of this.#written.keys()) this.retire(generation);
    this.#written.clear();
    return loop?.stop();
  }

  async terminate(): Promise<void> {
    this.#terminated = true;
    // Every write is hidden from now on, whatever is still in flight.
    this.retire(Infinity);
    for (const { reject } of this.#waiters.values()) reject(new LockerTerminatedError());
    this.#waiters.clear();
    await this.#loop?.stop();
    this.#loop = undefined;
  }
}

/** The platform of the runtime-agnostic entry: in-thread liveness, and database instances only. */
export const inThreadPlatform: Platform = {
  name: "in-thread",
  requestScoped: true,
  createLiveness: (params) => new InThreadLiveness(params),
  loadDatabase: async (reference) => {
    throw new DatabaseLoadError(`pulselock: this runtime cannot load ${JSON.stringify(reference.moduleName)}: pass a RedisDatabase instance`);
  },
};
