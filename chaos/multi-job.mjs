// The multi-key job a Node chaos worker runs under acquireAllAndRun(): a heartbeat-style job over a set
// of 2–3 keys. The history sees it as one run per key of the set (run ids `<run>:<index>`, each with the
// key, that key's fencing token and ownerHash, and `set: <run>`), so every check of one key's runs
// (overlaps beyond the seppuku bound, tokens, the fenced store, dead holders) covers every key of every
// set, against single runs and other sets alike. It writes every key of the set right after acquiring and
// after every successful heartbeat of the set; a set that lost its lock makes one more write per key
// anyway, as a zombie would. See chaos/job.mjs for the single-key job.

/** Returns the function to pass to acquireAllAndRun, and what the caller needs to report the outcome. */
export function multiKeyJob({ run, keys, workMs, stepMs, now, report, sleep }) {
  const state = { started: false, start: undefined, runs: [], returned: undefined };
  const writeAll = (fields) => {
    for (const r of state.runs) report({ type: "write", run: r.run, key: r.key, token: r.token, owner: r.owner, ...fields });
  };
  const fn = async (heartbeat) => {
    const start = now();
    state.started = true;
    state.start = start;
    state.runs = keys.map((key, i) => {
      const lockData = heartbeat.lockData.get(key);
      return { run: `${run}:${i}`, key, token: lockData?.fencingToken, owner: lockData?.ownerHash, processHash: lockData?.processHash };
    });
    heartbeat.signal.addEventListener("abort", () => {
      const afterReturn = state.returned !== undefined || undefined;
      const reason = String(heartbeat.signal.reason?.message ?? heartbeat.signal.reason);
      for (const r of state.runs) report({ type: "abort", run: r.run, at: now(), afterReturn, reason });
    });
    for (const r of state.runs) report({ type: "run-start", ...r, set: run, setKeys: keys, start, style: "heartbeat", workMs });
    writeAll({ start, end: null, at: start });
    const until = start + workMs;
    for (let left = until - now(); left > 0; left = until - now()) {
      await sleep(Math.min(stepMs, left));
      await heartbeat();
      writeAll({ start, end: null, at: now() });
    }
    await heartbeat();
    const end = now();
    writeAll({ start, end, at: end, final: true });
    state.returned = { at: end, aborted: heartbeat.signal.aborted };
    return end;
  };
  /** After acquireAllAndRun settled: the run-end event of every key (and the zombie writes of a lost set). */
  const settle = (outcome, error) => {
    if (!state.started) return;
    if (outcome === "lost") writeAll({ start: state.start, end: null, at: now(), afterAbort: true });
    for (const r of state.runs) report({ type: "run-end", run: r.run, key: r.key, at: now(), outcome, returned: state.returned, ...(error ? { error } : {}) });
  };
  return { fn, settle, state };
}
