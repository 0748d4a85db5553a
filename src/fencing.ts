import { DEFAULTS } from "./defaults";

/**
 * How long after the *send* time of a write its effect is certainly still in
 * Redis, by the local monotonic clock: the TTL shortened by the largest clock
 * drift and a small margin for timer latency. An owner stops at this point, so
 * it stops before anyone can see its record gone (G4).
 */
export function fencedTtl(ttlMs: number): number {
  return ttlMs * (1 - DEFAULTS.clockDriftRate) - Math.min(DEFAULTS.fencingMarginMs, ttlMs * 0.05);
}
