import { expect, it } from "vitest";
import { lostReason } from "../../adapters/opentelemetry/lost-reason";
import { LAPSED_REASON, LockError, OVERWRITTEN_REASON } from "../../src/errors";
import type { LockData } from "../../src/lock-data";

/** Every reason a running job's LockError carries (src/lock-run.ts, job-runner.ts, locker.ts, acquirer.ts) maps to its metric attribute. */
const holder: LockData = { ownerHash: "k@" + "a".repeat(32) + ".1", processHash: "a".repeat(32), acquiredAt: "", extendedAt: "", fencingToken: 1 };
const lost = (lockData: LockData | null, reason?: string) => lostReason(new LockError("k", "k@x.1", lockData, reason));

it.each([
  [lost(holder), "taken_over"],
  [lost(holder, "the lock was no longer held when the job ended"), "taken_over"],
  [lost(null), "expired_or_deleted"],
  [lost(null, "the lock was no longer held when the job ended"), "expired_or_deleted"],
  [lost(null, LAPSED_REASON), "liveness_lapsed"],
  [lost(null, "this process's liveness record was lost or lapsed"), "liveness_lapsed"],
  [lost(null, "the self-fencing deadline passed without a successful lock extension or liveness write"), "self_fencing_deadline"],
  [lost(null, OVERWRITTEN_REASON), "overwritten"],
  [lost(null, "Redis refused the extend: NOPERM no permissions"), "redis_refused"],
  [lost(null, "the Locker was terminated"), "terminated"],
])("reason %#: %s", (actual, expected) => {
  expect(actual).toBe(expected);
});
