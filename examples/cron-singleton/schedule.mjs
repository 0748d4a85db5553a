// @ts-check
// Wall-clock tick arithmetic for a job scheduled every `intervalMs`. Every
// instance computes the same ticks from the same clock, so "the 12:34 run" has
// one name fleet-wide, which is what the lock key is built from.

/**
 * The first tick strictly after `now`, aligned to the interval (a 60 s interval ticks at every whole minute).
 * @param {number} now epoch ms
 * @param {number} intervalMs
 */
export function nextTickAfter(now, intervalMs) {
  return (Math.floor(now / intervalMs) + 1) * intervalMs;
}

/**
 * The ticks an instance tries at `tickAt`: that tick, and the `catchUp`
 * ticks before it (never before `firstTick`). Trying earlier ticks again is
 * what redoes a run whose instance died: its lock is taken over once the dead
 * instance's liveness record expires, and the "done" marker skips every tick
 * that already ran.
 * @param {number} tickAt epoch ms of this tick
 * @param {number} intervalMs
 * @param {number} catchUp how many earlier ticks to try again
 * @param {number} firstTick epoch ms of the schedule's first tick
 * @returns {number[]}
 */
export function ticksToTry(tickAt, intervalMs, catchUp, firstTick) {
  const ticks = [];
  for (let i = catchUp; i >= 0; i--) {
    const t = tickAt - i * intervalMs;
    if (t >= firstTick) ticks.push(t);
  }
  return ticks;
}

/**
 * Sleeps until the wall clock reads `at` (a timer may fire early by a millisecond; loop until it has not).
 * @param {number} at epoch ms
 */
export async function sleepUntil(at) {
  for (let left = at - Date.now(); left > 0; left = at - Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, left));
  }
}
