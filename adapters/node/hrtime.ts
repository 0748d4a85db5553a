// Taken when pulselock loads: a test that fakes timers afterwards (vitest fakes process.hrtime) must not stop this clock.
const bigint = process.hrtime.bigint.bind(process.hrtime);

/** Monotonic ns of this thread (on Bun and Deno each thread's starts at its own origin). */
export function hrtimeNs(): bigint {
  return bigint();
}
