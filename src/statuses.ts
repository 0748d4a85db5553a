/** The outcome of acquire(), release() and extend(). Each member's value is its name. */
export enum LockStatus {
  /** The call did what it was asked: the lock is now held (acquire, extend) or free (release). */
  SUCCESS = "SUCCESS",
  /**
   * Another owner holds the key, and its process is alive. Not an error: for a
   * singleton job it is the expected answer on every process but one.
   */
  SOMEONE_ELSE_HOLDS_LOCK = "SOMEONE_ELSE_HOLDS_LOCK",
  /** Nobody holds the key any more (it expired or was released), so there was nothing to extend or release. */
  NO_KEY = "NO_KEY",
}

/** What readOwnerHashStatus() found for an owner hash. Each member's value is its name. */
export enum OwnerHashStatus {
  /** This owner holds the lock and its process's liveness record is fresh: the run is most likely still going. */
  RUNNING = "RUNNING",
  /** The key is held by a different owner: this run ended, or lost the lock to a takeover. */
  SOMEONE_ELSE_HOLDS_LOCK = "SOMEONE_ELSE_HOLDS_LOCK",
  /** Nobody holds the key: the run finished and released it, or the lock expired. */
  NO_KEY = "NO_KEY",
  /** This owner still holds the key, but its process is dead (no liveness record): the next acquirer takes it over. */
  NO_RUNNING_PROCESS = "NO_RUNNING_PROCESS",
  /** The string is not an owner hash pulselock made (`{key}@{processHash}.{seq}#{trace}`), so no key could be read from it. */
  MALFORMED_OWNER_HASH = "MALFORMED_OWNER_HASH",
}
