/*
 * Unknown option names are refused, naming the closest known one: in plain
 * JavaScript a misspelt option (`lockTTLms`) would otherwise be ignored
 * silently and its default used.
 */

/** Edit distance, case-insensitive (a wrong case is the commonest slip). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let row = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[y.length]!;
}

/** The known name closest to `name`, if it is close enough to be a likely slip. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Throws a TypeError for the first own key of `options` that is not in `known`. */
export function assertKnownOptions(owner: string, options: object, known: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const closest = closestName(name, known);
    throw new TypeError(
      `pulselock: ${owner} has no option ${JSON.stringify(name.slice(0, 80))}` +
        (closest ? `; did you mean ${closest}?` : `; its options are ${known.join(", ")}`),
    );
  }
}

/** The option names of a call's options object: acquireAndRun(), acquire(), acquireAllAndRun() and a semaphore's. */
export const RUN_OPTION_NAMES = ["trace", "waitUntil"] as const;

/** The option names of a waiting call: mutex(), mutexAll() and a semaphore's waitAndRun(). */
export const MUTEX_OPTION_NAMES = ["timeoutMs", "signal", "trace", "waitUntil", "recheckDelayMs"] as const;
