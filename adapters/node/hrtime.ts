/** Monotonic ns of this thread (on Bun and Deno each thread's starts at its own origin). */
export function hrtimeNs(): bigint {
  return process.hrtime.bigint();
}
