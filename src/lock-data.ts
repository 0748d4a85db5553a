/** What Redis stores about the current holder of a lock. */
export interface LockData {
  /**
   * Identifies one run (one acquisition) uniquely across the fleet:
   * `"{key}@{processHash}.{seq}"`, plus `"#{trace}"` when a trace was given.
   * Two acquisitions in one process have different owner hashes.
   */
  ownerHash: string;
  /** Identifies the process (its liveness record) that holds the lock. */
  processHash: string;
  /** The trace passed to acquire(), kept for debugging. */
  trace?: string;
  /** When the lock was acquired, by the Redis server's clock (ISO 8601). */
  acquiredAt: string;
  /** When the lock was last extended, by the Redis server's clock (ISO 8601). */
  extendedAt: string;
  /**
   * Strictly greater than the token of every earlier acquisition of the same
   * key (G5). Pass it to the systems your job writes to, so they can reject
   * writes from an owner that lost the lock.
   */
  fencingToken: number;
}
