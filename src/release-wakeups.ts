/**
 * What the Locker needs from a platform's release wake-ups: mutex() waiters
 * hear of a release at once instead of at their next poll. The pub/sub
 * implementation is adapters/shared/release-wakeups.ts; runtimes without
 * pub/sub (HTTP on edge) have none, and their waiters poll.
 */
export interface ReleaseWakeups {
  /** Calls `onWake` on each release announced on `channel` (db.wakeChannel() of a lock) until the returned function is called. */
  listen(channel: string, onWake: () => void): Promise<() => void>;
  /** Stops every subscription and closes the connection. */
  close(): Promise<void>;
}
