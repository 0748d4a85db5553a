import { LivenessError, messageOf } from "./errors";
import { fencedTtl } from "./fencing";
import type { Identity, Liveness } from "./liveness";
import { randomHex } from "./timers";
import type { Transport } from "./transport";
import { failWhenUnreachable } from "./unreachable";

const noop = (): void => {};

/**
 * A new identity whose first write waits for a call to go out with: `send` hands it to the transport (call it
 * right before that call, and in any case once: it does nothing the second time); `written` settles as the
 * Promise that live() gives otherwise.
 */
export interface Unsent {
  identity: Identity;
  send: () => void;
  written: Promise<Identity>;
}

/** Whether live(true) gave a new identity whose first write waits for the caller's call. */
export const isUnsent = (next: Identity | Promise<Identity> | Unsent): next is Unsent => "send" in next;

export interface ProcessIdentityParams {
  liveness: Liveness;
  reportTtlMs: number;
  /** How long a new identity's first write may take (the option keeps the original library's name). */
  reporterWorkerSpawnTimeoutMs: number;
  /** The client's transport once known: its connection failures fail a first write early. */
  transport: () => Transport | undefined;
  /** Subscribes to the liveness writer's background errors. */
  onWriterError: (listener: (error: unknown) => void) => () => void;
  /** A background failure of the early-failure watch. */
  onError: (error: unknown) => void;
  /** `generation` and every earlier one are over: their runs lost their locks. */
  onLapse: (generation: number, reason: string) => void;
}

/**
 * The identity this process's locks are held under, and its lifecycle: a
 * random process hash written as a liveness record, replaced by a new one
 * (a higher generation) whenever the record may have lapsed. A lapse is
 * final: the old identity's locks are lost, and it is never used again.
 */
export class ProcessIdentity {
  #current: Identity | undefined;
  #pending: Promise<Identity> | undefined;
  /** The identity that #pending writes. */
  #starting: Identity | undefined;
  /** #starting, while its first write waits for the call it goes out with. */
  #unsent: Unsent | undefined;
  #generation = 0;
  #lapsedGeneration = 0;
  /** The liveness writer's last failure: what a first write that never succeeds is reported with. */
  #lastWriterError: unknown;

  constructor(private readonly p: ProcessIdentityParams) {}

  /** Notes a liveness writer's failure, for the message of a first write that times out. */
  writerFailed(error: unknown): void {
    this.#lastWriterError = error;
  }

  /**
   * The identity to acquire under: the current one while alive; else a new one, once its record is written. With
   * `withCall`, a new identity's first write waits for the caller's own call (Unsent): see Acquirer.
   */
  live(): Identity | Promise<Identity>;
  live(withCall: boolean): Identity | Promise<Identity> | Unsent;
  live(withCall = false): Identity | Promise<Identity> | Unsent {
    const current = this.#current;
    if (current && this.isAlive(current)) return current;
    const unsent = this.#unsent;
    if (unsent) {
      // Not sent yet: a call made meanwhile (in the same task) rides along with it too.
      if (withCall) return unsent;
      // A caller with no call to carry the write wants an Identity (an Unsent is none): it sends the write now. Where
      // requests have contexts, batches leave within the task that made their calls, so this caller runs in the
      // request that made the Unsent and waits on no other's I/O; the call the Unsent waited for still goes behind it.
      unsent.send();
      return unsent.written;
    }
    // Concurrent acquires share one start; where a request must not wait on another's I/O, each writes it itself.
    const pending = this.#pending;
    const starting = this.#starting;
    if (pending && starting && starting !== current) return this.p.liveness.join ? this.#join(starting) : pending;
    // The old identity is over (its deadline may simply have passed): retire it before a new one is written. A start
    // still pending for it is dropped: where requests have contexts, one whose request ended never settles.
    if (current) {
      this.p.liveness.retire(current.generation);
      this.#drop(current);
    }
    return this.#start({ processHash: randomHex(16), generation: ++this.#generation }, withCall);
  }

  /** Whether locks taken under `identity` are still certainly held: not lapsed, and its last write is within the fenced TTL. */
  isAlive(identity: Identity): boolean {
    if (identity.generation <= this.#lapsedGeneration) return false;
    const last = this.p.liveness.lastWriteSentAt(identity.generation);
    return last !== undefined && this.p.liveness.now() < last + fencedTtl(this.p.reportTtlMs);
  }

  /** Ends an identity for good: its runs lose their locks, and the next acquire starts a new one. */
  lapse(generation: number, reason: string): void {
    this.#lapsedGeneration = Math.max(this.#lapsedGeneration, generation);
    this.p.liveness.retire(generation);
    this.p.onLapse(generation, reason);
  }

  #start(identity: Identity, withCall: boolean): Promise<Identity> | Unsent {
    this.#starting = identity;
    const timeoutMs = this.p.reporterWorkerSpawnTimeoutMs;
    this.#lastWriterError = undefined;
    let over = false;
    let send = noop;
    const sent = new Promise<void>((resolve, reject) => {
      send = () => {
        if (over) return;
        over = true;
        this.#unsent = undefined;
        this.p.liveness.start(identity).then(resolve, reject);
      };
    });
    const timedOut = () => {
      const cause = this.#lastWriterError;
      const why =
        cause === undefined
          ? "no write came back (is Redis reachable? does the database module load in the liveness thread?)"
          : `the last try failed: ${messageOf(cause)}`;
      return new LivenessError(`pulselock: the liveness writer did not write its first record within ${timeoutMs} ms: ${why}`, { cause });
    };
    // Unreachable Redis fails the acquire when the client says so, not after timeoutMs.
    const pending = (this.#pending = failWhenUnreachable(sent, this.p.transport(), this.p.onWriterError, this.p.onError, timeoutMs, timedOut)
      .then(() => {
        // Unless a later start replaced it (this one was dropped, see live()).
        if (this.#starting === identity) this.#current = identity;
        return identity;
      })
      .finally(() => {
        // Failed before it was sent (terminated, timed out): it must never be sent now.
        over = true;
        if (this.#starting !== identity) return;
        this.#pending = this.#starting = this.#unsent = undefined;
      }));
    // Its callers handle its failure, but a first write that waits for its call's reply looks at it only then: an
    // early failure (Redis unreachable) meanwhile must not count as an unhandled rejection. Chained in this request.
    pending.catch(noop);
    if (!withCall) {
      send();
      return pending;
    }
    return (this.#unsent = { identity, send, written: pending });
  }

  /**
   * Forgets the start of `identity`, which may never settle (its request ended, on Cloudflare Workers): a later
   * settle changes nothing (see #start), and the next live() begins a new identity.
   */
  #drop(identity: Identity): void {
    if (this.#starting === identity) this.#pending = this.#starting = undefined;
  }

  /**
   * Waits for `identity` by a write of the caller's own. The caller's write is as good as the start's: the identity is
   * current from then on, for the start's request may have ended before its reply (Cloudflare Workers), and then its
   * start never settles. The start's promise is left alone: its own caller handles it, and anything chained to it here
   * would belong to this request but settle from the start's (workerd warns of that, and drops the continuation).
   */
  async #join(identity: Identity): Promise<Identity> {
    try {
      await this.p.liveness.join!(identity);
    } catch (error) {
      // The loop no longer writes it (stopped, lapsed, replaced): the next live() begins a new identity.
      this.#drop(identity);
      throw error;
    }
    if (this.#starting === identity && identity.generation > this.#lapsedGeneration) this.#current = identity;
    return identity;
  }
}
