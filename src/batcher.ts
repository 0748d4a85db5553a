/**
 * Sends the calls of one script in batches. A busy process so pays for one
 * script call per batch instead of one per lock, which is where a client
 * library spends most of its CPU; a lone caller must not pay for that with
 * latency. So:
 * - While no batch of this batcher is out, a call leaves within the task that
 *   made it, once that task's microtasks have run: the calls of a synchronous
 *   burst, and those of the callers that one reply resumes together (which run
 *   in the same microtask checkpoint), leave as one batch, and a lone call
 *   leaves before the event loop runs anything else.
 * - While a batch is out, more calls are coming (its reply resumes its
 *   callers), so new calls gather until the end of the turn (setImmediate, a
 *   few µs), and while `maxInFlight` batches are out, until one comes back.
 * - Many calls due at once leave as two batches, not one (while two may be
 *   out): Redis runs the first while the client still writes the second, and
 *   the client resumes the first one's callers while Redis runs the second.
 *   With one batch, busy callers fall into lockstep (all of them wait on
 *   Redis, then Redis waits on all of them), and the client's and Redis's
 *   work per call add up instead of overlapping.
 *
 * On runtimes with request contexts (Cloudflare Workers), a batch must hold
 * the calls of one request only: a promise of one request settled by another
 * request's I/O draws workerd's "different request context" warning, and a
 * request that waits on another's I/O is cancelled as hung. There a batch
 * always leaves within the task that made its calls (every call in it comes
 * from the request that runs the task), and no call waits behind a batch in
 * flight.
 */
import { runAfterTask, runAtEndOfTask } from "./timers";

/**
 * Below this many calls due at once, they leave as one batch: the overlap of two halves (see above) does not pay for
 * a second script call yet.
 */
export const SPLIT_FROM = 64;

/** How a batcher groups calls: by turns of the event loop, or by request (see above). */
export type BatchScope = "turn" | "request";

/**
 * The pumps due at one moment, run one after another in one callback: the
 * acquire and release batches due then reach the transport in one microtask
 * checkpoint, and an HTTP transport can send them in one request.
 */
function dueAt(schedule: (fn: () => void) => void): (pump: () => void) => void {
  let due: (() => void)[] | undefined;
  return (pump) => {
    if (!due) {
      const pumps: (() => void)[] = (due = []);
      schedule(() => {
        due = undefined;
        for (const p of pumps) p();
      });
    }
    due.push(pump);
  };
}

const AT_END_OF_TASK = dueAt(runAtEndOfTask);
const AT_END_OF_TURN = dueAt(runAfterTask);

/**
 * What one call needs done in the very callback that hands its batch to the transport: `before` sends what must
 * reach Redis ahead of the batch, `after` what must follow it; an HTTP transport carries them all in one request.
 */
export interface SendHooks {
  before?: () => void;
  after?: () => void;
}

interface Pending<E, R> {
  entry: E;
  hooks: SendHooks | undefined;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class Batcher<E, R> {
  readonly #queue: Pending<E, R>[] = [];
  /** The batches sent and not yet answered: how many are in flight, and whose callers failAll() reaches. */
  readonly #out = new Set<Pending<E, R>[]>();
  #scheduled = false;

  /**
   * @param send runs one batch; it resolves with one result per entry, in order.
   * @param sameBatch whether an entry may join the batch that `first` opens.
   * @param maxSize at most this much per batch, counted by `sizeOf` (1 on a cluster, where keys of several slots cannot share a script).
   * @param maxInFlight at most this many batches out at once; ignored in "request" scope, where no call waits for another's batch.
   * @param scope "request" on runtimes with request contexts (see above).
   * @param sizeOf what an entry counts towards maxSize (1 each by default; a batch's first entry goes in whatever its size).
   */
  constructor(
    readonly send: (entries: E[]) => Promise<(R | Error)[]>,
    readonly sameBatch: (first: E, entry: E) => boolean,
    readonly maxSize: number,
    readonly maxInFlight: number,
    readonly scope: BatchScope = "turn",
    readonly sizeOf: (entry: E) => number = () => 1,
  ) {
    if (scope === "request") this.maxInFlight = Infinity;
  }

  call(entry: E, hooks?: SendHooks): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ entry, hooks, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#out.size >= this.maxInFlight) return;
    this.#scheduled = true;
    const at = this.#out.size === 0 || this.scope === "request" ? AT_END_OF_TASK : AT_END_OF_TURN;
    at(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#out.size < this.maxInFlight && this.#queue.length > 0) {
      const first = this.#queue[0]!.entry;
      const batch: Pending<E, R>[] = [];
      const maxSize = this.#splitSize();
      for (let i = 0, size = 0; i < this.#queue.length && size < maxSize;) {
        const entry = this.#queue[i]!.entry;
        if (!this.sameBatch(first, entry)) {
          i++;
          continue;
        }
        size += this.sizeOf(entry);
        if (batch.length > 0 && size > maxSize) break;
        batch.push(...this.#queue.splice(i, 1));
      }
      this.#out.add(batch);
      // Sent here, not a microtask later: a lone call's batch leaves a hop sooner, and costs two promises fewer.
      let sent: Promise<(R | Error)[]> | undefined;
      try {
        for (const b of batch) b.hooks?.before?.();
        sent = this.send(batch.map((b) => b.entry));
        for (const b of batch) b.hooks?.after?.();
      } catch (error) {
        // A send or hook that throws must fail its batch, not the caller that happened to pump.
        sent?.catch(() => {});
        sent = Promise.reject(error);
      }
      sent.then(
        (results) => {
          this.#landed(batch);
          batch.forEach((b, i) => (results[i] instanceof Error ? b.reject(results[i]) : b.resolve(results[i] as R)));
        },
        (error) => {
          this.#landed(batch);
          batch.forEach((b) => b.reject(error));
        },
      );
    }
  }

  /**
   * How much the next batch may take: half of what is due when that is at least SPLIT_FROM and a second batch may
   * leave too (see above), else maxSize. Not per request: a request's batches go out together, and split in two
   * they would only cost an HTTP transport a second script call in the same request.
   */
  #splitSize(): number {
    if (this.scope === "request" || this.#queue.length < SPLIT_FROM || this.maxInFlight - this.#out.size < 2) return this.maxSize;
    let due = 0;
    for (const { entry } of this.#queue) due += this.sizeOf(entry);
    return Math.min(this.maxSize, Math.ceil(due / 2));
  }

  /**
   * Rejects every call not answered yet, queued or out, with `error` (the Locker was terminated: nobody may wait on
   * a reply that a stalled connection may never bring). A reply that lands later settles nothing; the batch still
   * counts as out until then.
   */
  failAll(error: unknown): void {
    for (const pending of this.#queue.splice(0)) pending.reject(error);
    for (const batch of this.#out) for (const pending of batch) pending.reject(error);
  }

  /** Before its callers resume, so that a call they make next finds this batch no longer out. */
  #landed(batch: Pending<E, R>[]): void {
    this.#out.delete(batch);
    if (this.#queue.length > 0) this.#schedule();
  }
}
