// How often the chaos participants do the things that issue 14 found
// unsafe, shared by the Node workers and the workerd isolates.

/** The share of a Node worker's jobs that act on their own timer instead of heartbeat() (chaos/job.mjs). */
export const TIMER_JOB_ODDS = 0.3;

/** The share of a Node worker's attempts that take a set of 2–3 keys with acquireAllAndRun() (chaos/multi-job.mjs). */
export const MULTI_KEY_ODDS = 0.25;

export const MISUSE_ODDS = {
  /** A heartbeat-style job releases its own lock with heartbeat.lockData, once, after its first heartbeat. */
  ownRun: 0.15,
  /** After SOMEONE_ELSE_HOLDS_LOCK, the caller releases with the holder's lockData it was handed. */
  refusal: 0.3,
  /** After an attempt, the caller asks readLockData() of a random key and releases with the answer. */
  readLockData: 0.3,
};
