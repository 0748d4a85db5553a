/**
 * Capped exponential backoff with jitter: attempt n waits a random time in
 * [½, 1] × min(max, base·2ⁿ), so that many waiters do not retry in step.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return ceiling * (0.5 + random() / 2);
}
