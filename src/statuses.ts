/** The outcome of acquire(), release() and extend(). Each member's value is its name. */
export enum LockStatus {
  SUCCESS = "SUCCESS",
  SOMEONE_ELSE_HOLDS_LOCK = "SOMEONE_ELSE_HOLDS_LOCK",
  NO_KEY = "NO_KEY",
}

/** What readOwnerHashStatus() found for an owner hash. Each member's value is its name. */
export enum OwnerHashStatus {
  RUNNING = "RUNNING",
  SOMEONE_ELSE_HOLDS_LOCK = "SOMEONE_ELSE_HOLDS_LOCK",
  NO_KEY = "NO_KEY",
  NO_RUNNING_PROCESS = "NO_RUNNING_PROCESS",
  MALFORMED_OWNER_HASH = "MALFORMED_OWNER_HASH",
}
