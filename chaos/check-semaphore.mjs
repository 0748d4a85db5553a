// The chaos checker's semaphore check (issue 20): at most `limit` runs of one
// semaphore key act at once. A run acts from its start to its last action (a
// write made right after a successful heartbeat, or by its own timer after it
// read `signal.aborted` false); a run that lost its permit must have stopped
// acting before anyone else could take it, by the same self-fencing deadline
// as a lock's, so counting actions is the bound. Timestamps of different
// processes agree to `slackMs`: each run counts until slackMs before its last
// action. The one documented exception is the lock's: a Redis restart that
// lost all data frees every permit at once (README "A lapse is final"), so a
// run that started before it counts only until then.

/** Runs that took a permit, by semaphore key (their run-start event carries the limit). */
function semaphoreRuns(runs) {
  const groups = new Map();
  for (const run of runs) {
    if (!run.limit) continue;
    if (!groups.has(run.key)) groups.set(run.key, []);
    groups.get(run.key).push(run);
  }
  return groups;
}

/**
 * Moments at which more than `limit` runs of a semaphore key acted, one violation per excess; and per key the most
 * runs that acted at once (the figure that shows the limit was reached).
 */
export function semaphoreOverlaps(runs, losses, { slackMs }) {
  const found = [];
  const peaks = {};
  const groups = semaphoreRuns(runs);
  for (const [key, list] of groups) {
    const limit = Math.min(...list.map((r) => r.limit));
    const edges = [];
    for (const r of list) {
      let until = Math.max(r.lastOk, r.lastTimerAct) - slackMs;
      for (const t of losses) if (t >= r.start && t < until) until = t;
      if (until > r.start) edges.push({ at: r.start, delta: 1, run: r }, { at: until, delta: -1, run: r });
    }
    // At one moment, an end comes before a start: a run that stopped as another started did not overlap it.
    edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
    const acting = new Set();
    let peak = 0;
    for (const { at, delta, run } of edges) {
      if (delta < 0) {
        acting.delete(run);
        continue;
      }
      acting.add(run);
      peak = Math.max(peak, acting.size);
      if (acting.size > limit) {
        const names = [...acting].map((r) => `${r.run} (token ${r.token})`).join(", ");
        found.push({ key, at, detail: `${acting.size} runs of semaphore ${key} (limit ${limit}) acted at once when ${run.run} started: ${names}` });
      }
    }
    peaks[key] = peak;
  }
  return { found, peaks, runs: [...groups.values()].reduce((n, list) => n + list.length, 0) };
}
