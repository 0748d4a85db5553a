import { DEFAULTS } from "./defaults";

/**
 * How long after the *send* time of a write its effect is certainly still in
 * Redis, by the local monotonic clock: the TTL shortened by the largest clock
 * drift and a fixed margin for timer latency. An owner stops at this point, so
 * it stops before anyone can see its record gone (G4). The margin is whole
 * milliseconds whatever the TTL: a share of a tiny TTL would be below timer
 * granularity, and the owner would abort after the next one started.
 */
export function fencedTtl(ttlMs: number): number {
  return ttlMs * (1 - DEFAULTS.clockDriftRate) - DEFAULTS.fencingMarginMs;
}

/**
 * The shortest lockTtlMs and reportTtlMs a Locker accepts: four fencing
 * margins. Below that the margin would eat most of the TTL, and timers (1 ms
 * granularity, later under load) are too coarse to stop an owner in time.
 */
export const MIN_TTL_MS = 4 * DEFAULTS.fencingMarginMs;
