/**
 * Tells what still waits on a Locker (acquisitions out, waits in their pause) that it was terminated. Not an
 * AbortSignal: on Cloudflare Workers an AbortSignal belongs to the request that made it, and touching it from
 * another request throws, while one Locker serves every request of its isolate.
 */
export class Ended {
  /** The reason it ended with (a LockerTerminatedError), once it has; set by end() only. */
  reason: Error | undefined;
  readonly #listeners = new Set<(reason: Error) => void>();

  /** Calls `listener` when it ends (at once if it has); returns what stops listening. */
  listen(listener: (reason: Error) => void): () => void {
    if (this.reason) listener(this.reason);
    else this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  end(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    for (const listener of this.#listeners) listener(reason);
    this.#listeners.clear();
  }
}
