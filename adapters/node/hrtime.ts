import { isFakeTimer } from "../../src/timers";

// Taken when pulselock loads: a test that fakes timers afterwards (vitest fakes process.hrtime) must not stop this clock.
const bigint = process.hrtime.bigint.bind(process.hrtime);

/** Whether process.hrtime was a fake when pulselock loaded (see src/timers.ts, timersFakedAtLoad). */
export const hrtimeFakedAtLoad = isFakeTimer(process.hrtime) || isFakeTimer(process.hrtime.bigint);

/** Monotonic ns of this thread (on Bun and Deno each thread's starts at its own origin). */
export function hrtimeNs(): bigint {
  return bigint();
}
