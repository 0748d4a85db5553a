// The job every chaos participant runs under acquireAndRun(), on Node and in
// workerd alike, in one of two styles:
//
// - "heartbeat": writes its record (key, fencingToken, owner, start, end) to
//   the fenced store right after acquiring and after every successful
//   heartbeat, for workMs. When `misuse` is given it also tries, once, to
//   release its own lock from inside the job (issue 14, item 1).
// - "timer": never calls heartbeat(); it acts on its own timer instead: every
//   `stepMs / 2` an interval callback reads `heartbeat.signal.aborted` and
//   writes when it is false (issue 14, item 3: after SIGSTOP/SIGCONT such a
//   callback may run before the library's own timers). It ends after workMs
//   or when the signal aborts.
//
// A run that lost its lock makes one last write anyway, as a zombie would:
// the fenced store must refuse it once a newer token exists. When fn returns,
// the job records whether its signal read aborted then (`returned`): a run
// that returned unaborted and then ended with a LockError although nobody
// else took its key is the false LockError of issue 14, item 4.
//
// `report(event)` carries events to the orchestrator; `now()` is the
// participant's wall clock in ms.

/** Returns the function to pass to acquireAndRun, and what the caller needs to report the outcome. */
export function chaosJob({ run, key, workMs, stepMs, now, report, sleep, style = "heartbeat", misuse, limit }) {
  const state = { started: false, token: undefined, owner: undefined, returned: undefined };
  // A run under a semaphore permit (`limit`) says so: its writes overlap other permits' by design.
  const semaphore = limit ? { limit } : {};
  const write = (fields) => report({ type: "write", run, key, token: state.token, owner: state.owner, ...(limit ? { semaphore: true } : {}), ...fields });
  const begin = (heartbeat, ownerHash) => {
    const start = now();
    Object.assign(state, { started: true, token: heartbeat.lockData.fencingToken, owner: ownerHash, start });
    heartbeat.signal.addEventListener("abort", () => {
      // An abort once the job has returned (its release found the lock gone, or the run ended) stops nothing.
      const afterReturn = state.returned !== undefined || undefined;
      report({ type: "abort", run, at: now(), afterReturn, reason: String(heartbeat.signal.reason?.message ?? heartbeat.signal.reason) });
    });
    report({
      type: "run-start",
      run,
      key,
      token: state.token,
      owner: ownerHash,
      processHash: heartbeat.lockData.processHash,
      start,
      style,
      workMs,
      ...semaphore,
    });
    write({ start, end: null, at: start });
    return start;
  };
  const returning = (heartbeat) => {
    const end = now();
    state.returned = { at: end, aborted: heartbeat.signal.aborted };
    return end;
  };
  const heartbeatStyle = async (heartbeat, ownerHash) => {
    const start = begin(heartbeat, ownerHash);
    const until = start + workMs;
    let misused = !misuse;
    for (let left = until - now(); left > 0; left = until - now()) {
      await sleep(Math.min(stepMs, left));
      await heartbeat();
      const at = now();
      write({ start, end: null, at });
      if (!misused) {
        misused = true;
        await misuse(heartbeat.lockData);
      }
    }
    await heartbeat();
    const end = now();
    write({ start, end, at: end, final: true });
    return returning(heartbeat);
  };
  const timerStyle = (heartbeat, ownerHash) =>
    new Promise((resolve) => {
      const start = begin(heartbeat, ownerHash);
      const tick = setInterval(
        () => {
          // Read before the signal: a SIGSTOP that lands between the check and the write delays the write, not the
          // decision, and the checker judges the decision (the fenced store still refuses such a late write).
          const checkedAt = now();
          if (heartbeat.signal.aborted) return;
          write({ start, end: null, at: now(), timer: true, checkedAt });
        },
        Math.max(1, stepMs / 2),
      );
      const done = () => {
        clearInterval(tick);
        clearTimeout(timer);
        heartbeat.signal.removeEventListener("abort", done);
        resolve(returning(heartbeat));
      };
      const timer = setTimeout(done, workMs);
      heartbeat.signal.addEventListener("abort", done);
    });
  /** After acquireAndRun settled: the run-end event (and the zombie write of a lost run). */
  const settle = (outcome, error) => {
    if (!state.started) return;
    if (outcome === "lost") write({ start: state.start, end: null, at: now(), afterAbort: true });
    report({ type: "run-end", run, key, at: now(), outcome, returned: state.returned, ...(error ? { error } : {}) });
  };
  return { fn: style === "timer" ? timerStyle : heartbeatStyle, settle, state };
}
