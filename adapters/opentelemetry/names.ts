/*
 * The names pulselock reports under, in one place: the README's Operations
 * section and the tests read them from here. Metric names follow the
 * OpenTelemetry semantic conventions: dotted namespaces, durations in seconds
 * (unit "s"), counts with a {curly} unit, no unit in the name.
 */

/** Metric names. */
export const METRICS = Object.freeze({
  /** Locks held right now by this process's Lockers (observable up-down counter, `{lock}`). */
  held: "pulselock.lock.held",
  /** Duration of one acquisition attempt (histogram, `s`), by `pulselock.acquire.outcome`. */
  acquireDuration: "pulselock.lock.acquire.duration",
  /** Acquisition attempts (counter, `{acquisition}`), by `pulselock.acquire.outcome`. */
  acquisitions: "pulselock.lock.acquisitions",
  /** Locks taken over from a dead holder (counter, `{lock}`). */
  takeovers: "pulselock.lock.takeovers",
  /** Locks a running job lost (counter, `{lock}`), by `pulselock.lost.reason`. */
  lost: "pulselock.lock.lost",
  /** Duration of one liveness write (histogram, `s`), by `pulselock.liveness.write.outcome`. */
  livenessWriteDuration: "pulselock.liveness.write.duration",
  /** Liveness writes that failed (counter, `{write}`). */
  livenessWriteFailures: "pulselock.liveness.write.failures",
});

/** The span of one acquireAndRun(). */
export const SPAN_NAME = "pulselock acquireAndRun";

/** Attribute names. */
export const ATTRIBUTES = Object.freeze({
  /** `acquired`, `held` (someone else holds it) or `error`. */
  acquireOutcome: "pulselock.acquire.outcome",
  /** `taken_over`, `expired_or_deleted`, `liveness_lapsed`, `self_fencing_deadline`, `overwritten`, `redis_refused` or `terminated`. */
  lostReason: "pulselock.lost.reason",
  /** `ok` or `failed`. */
  writeOutcome: "pulselock.liveness.write.outcome",
  /** Span: the lock name. */
  key: "pulselock.lock.key",
  /** Span: the call's trace string, when given. */
  trace: "pulselock.lock.trace",
  /** Span: the fencing token of the acquisition, once taken. */
  fencingToken: "pulselock.lock.fencing_token",
  /** Span: the owner hash of the acquisition, once taken. */
  ownerHash: "pulselock.lock.owner_hash",
  /** Span: `success`, `held` (the job did not run), `lost` or `error`. */
  runOutcome: "pulselock.run.outcome",
});
