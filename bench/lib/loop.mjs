// Closed-loop load: `concurrency` callers each run `op` back to back.
/** Runs op(worker, i) from `concurrency` loops for durationMs; resolves with { ops, ms, errors }. */
export async function runFor({ durationMs, concurrency, op }) {
  const start = performance.now();
  const end = start + durationMs;
  let ops = 0;
  let errors = 0;
  let firstError;
  const loops = Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = 0; performance.now() < end; i++) {
      try {
        await op(worker, i);
        ops++;
      } catch (error) {
        errors++;
        firstError ??= error;
        if (errors > 100) throw firstError;
      }
    }
  });
  await Promise.all(loops);
  return { ops, ms: performance.now() - start, errors, firstError };
}

/** The p-th percentile (0–100) of numbers, nearest-rank. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one host. */
export const wallNow = () => performance.timeOrigin + performance.now();

/** Rejects when `promise` has not settled within `ms`, so a stuck phase fails the run instead of hanging it. */
export function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
