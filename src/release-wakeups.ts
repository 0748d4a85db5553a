/**
 * What the Locker needs from a platform's release wake-ups: mutex() waiters
 * hear of a release at once instead of at their next poll. The pub/sub
 * implementation is adapters/shared/release-wakeups.ts; runtimes without
 * pub/sub (HTTP on edge) have none, and their waiters poll.
 */
export interface ReleaseWakeups {
  /**
   * Calls `onWake` on each release announced on `channel` (db.wakeChannel() of a lock) until `stop` is called.
   * `ready` settles once the subscription is in place (or failed), when it is not yet: a release announced before
   * then is not heard. Nobody should wait for it (a pub/sub connection can stall while Redis still answers).
   */
  listen(channel: string, onWake: () => void): { stop: () => void; ready?: Promise<void> };
  /** Stops every subscription and closes the connection. */
  close(): Promise<void>;
}
