import { LAPSED_REASON, OVERWRITTEN_REASON, type LockError } from "../../src/errors";

/** Why a running job lost its lock, as a metric attribute: a small fixed set. `taken_over`: another process holds it now. */
export type LostReason = "taken_over" | "expired_or_deleted" | "liveness_lapsed" | "self_fencing_deadline" | "overwritten" | "redis_refused" | "terminated";

/** The category of a lost lock, from the LockError its job gets (its reason texts are set in src/: lock-run.ts, job-runner.ts, locker.ts, acquirer.ts). */
export function lostReason(error: LockError): LostReason {
  const reason = error.reason;
  if (error.lockData) return "taken_over";
  if (reason === undefined) return "expired_or_deleted";
  if (reason === LAPSED_REASON || reason.includes("liveness record")) return "liveness_lapsed";
  if (reason.startsWith("the self-fencing deadline")) return "self_fencing_deadline";
  if (reason === OVERWRITTEN_REASON) return "overwritten";
  if (reason.startsWith("Redis refused")) return "redis_refused";
  if (reason.includes("terminated")) return "terminated";
  return "expired_or_deleted";
}
