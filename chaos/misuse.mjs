// Misuse of release(), as a careless caller would do it (issue 14, item 1):
// with the lockData another process's lock is known by (a refusal's, the
// readLockData() answer) or with the lockData of a job this Locker is running
// right now. None of them may free the lock: each attempt and what it
// answered goes into the history, and the checker flags every SUCCESS.

/**
 * Calls locker.release(key, lockData) and reports
 * { type: "misuse", source, key, run, victim, status | error, at }.
 * `victim` is the ownerHash whose lock the call tried to free.
 */
export async function misuseRelease({ locker, key, lockData, source, run, now, report }) {
  const sentAt = now();
  let outcome;
  try {
    outcome = { status: (await locker.release(key, lockData)).status };
  } catch (error) {
    outcome = { status: "threw", error: String(error?.message ?? error).slice(0, 200) };
  }
  report({ type: "misuse", source, key, run, victim: lockData.ownerHash, sentAt, at: now(), ...outcome });
  return outcome.status;
}
