// The job every chaos participant runs under acquireAndRun(), on Node and in
// workerd alike: it writes its record (key, fencingToken, owner, start, end)
// to the fenced store right after acquiring and after every successful
// heartbeat, for workMs. A run that loses its lock makes one last write
// anyway, as a zombie would: the fenced store must refuse it once a newer
// token exists.
//
// `report(event)` carries events to the orchestrator; `now()` is the
// participant's wall clock in ms.

/** Returns the function to pass to acquireAndRun, and what the caller needs to report the outcome. */
export function chaosJob({ run, key, workMs, stepMs, now, report, sleep }) {
  const state = { started: false, token: undefined, owner: undefined };
  const write = (fields) => report({ type: "write", run, key, token: state.token, owner: state.owner, ...fields });
  const fn = async (heartbeat, ownerHash) => {
    const start = now();
    state.started = true;
    state.token = heartbeat.lockData.fencingToken;
    state.owner = ownerHash;
    state.start = start;
    heartbeat.signal.addEventListener("abort", () => {
      report({ type: "abort", run, at: now(), reason: String(heartbeat.signal.reason?.message ?? heartbeat.signal.reason) });
    });
    report({ type: "run-start", run, key, token: state.token, owner: ownerHash, processHash: heartbeat.lockData.processHash, start });
    write({ start, end: null, at: start });
    const until = start + workMs;
    for (let left = until - now(); left > 0; left = until - now()) {
      await sleep(Math.min(stepMs, left));
      await heartbeat();
      const at = now();
      write({ start, end: null, at });
    }
    await heartbeat();
    const end = now();
    write({ start, end, at: end, final: true });
    return end;
  };
  /** After acquireAndRun settled: the run-end event (and the zombie write of a lost run). */
  const settle = (outcome, error) => {
    if (!state.started) return;
    if (outcome === "lost") write({ start: state.start, end: null, at: now(), afterAbort: true });
    report({ type: "run-end", run, key, at: now(), outcome, ...(error ? { error } : {}) });
  };
  return { fn, settle, state };
}
