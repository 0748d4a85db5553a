// The smoke checks every runtime runs, written against the public API only and
// importing nothing, so the same file runs on Node, Bun, Deno, workerd and
// Vercel's edge runtime. `lib` is whatever the runtime resolved `pulselock` to.

/** Short timings so a run takes seconds; reportWriteMs stays well below reportTtlMs. */
export const TIMINGS = { reportWriteMs: 400, reportTtlMs: 2000, lockRecheckMs: 100 };

/**
 * Two lockers race for one key: while the first runs, the second is refused;
 * then tokens of three successive runs strictly increase.
 */
export async function exclusiveAndTokens(lib, makeLocker, key) {
  const a = makeLocker();
  const b = makeLocker();
  let refused;
  let kept;
  const first = await a.acquireAndRun(key, async (heartbeat) => {
    kept = heartbeat;
    refused = await b.acquireAndRun(key, async () => "ran twice");
    await heartbeat();
    return heartbeat.lockData.fencingToken;
  });
  const second = await b.acquireAndRun(key, async (heartbeat) => heartbeat.lockData.fencingToken);
  const third = await a.acquireAndRun(key, async (heartbeat) => heartbeat.lockData.fencingToken);
  const tokens = [first, second, third].map((r) => (r.status === lib.LockStatus.SUCCESS ? r.result : NaN));
  return {
    lockers: [a, b],
    // Which entry the runtime resolved `pulselock` to, by the platform it exports: that decides where liveness runs.
    // Only the runtime entries export one (and isLivenessThread); the core's liveness runs on the isolate's timers.
    liveness: (lib.denoPlatform ?? lib.nodePlatform)?.name ?? (typeof lib.isLivenessThread === "function" ? "?" : "in-thread"),
    exclusive: first.status === lib.LockStatus.SUCCESS && refused?.status === lib.LockStatus.SOMEONE_ELSE_HOLDS_LOCK,
    tokens: tokens.every((t) => Number.isSafeInteger(t)) && tokens[0] < tokens[1] && tokens[1] < tokens[2],
    // The run's signal checks its deadline when read (its own `aborted` getter is installed on this runtime), and
    // it aborts with a RunEndedError once the job returned.
    signals:
      typeof Object.getOwnPropertyDescriptor(kept.signal, "aborted")?.get === "function" &&
      kept.signal.aborted === true &&
      kept.signal.reason?.name === "RunEndedError",
    tokenValues: tokens,
  };
}

/**
 * Liveness written off the main thread: a holder whose main thread is blocked
 * for longer than reportTtlMs still holds its lock afterwards (a contender is
 * refused) and its heartbeat still succeeds. With in-thread liveness the
 * record would expire during the block and the contender would take over.
 */
export async function blockedHolderKeepsLock(lib, makeLocker, key, blockMs) {
  const holder = makeLocker();
  const contender = makeLocker();
  let contenderStatus;
  let heartbeatAfterBlock = false;
  const run = await holder.acquireAndRun(key, async (heartbeat) => {
    const end = performance.now() + blockMs;
    while (performance.now() < end) {
      // busy: no timer of this thread can run
    }
    contenderStatus = (await contender.acquireAndRun(key, async () => "taken")).status;
    await heartbeat();
    heartbeatAfterBlock = true;
  });
  await holder.terminate();
  await contender.terminate();
  return run.status === lib.LockStatus.SUCCESS && contenderStatus === lib.LockStatus.SOMEONE_ELSE_HOLDS_LOCK && heartbeatAfterBlock;
}

/**
 * A lock over an @upstash/redis client: the liveness thread or worker must
 * rebuild that client from its url and token, importing @upstash/redis itself.
 */
export async function upstashRun(lib, db, key) {
  const locker = new lib.Locker({ database: db, ...TIMINGS });
  try {
    const res = await locker.acquireAndRun(key, async (heartbeat) => {
      await heartbeat.delay(TIMINGS.reportWriteMs * 2); // liveness writes go on meanwhile
      return heartbeat.lockData.fencingToken;
    });
    return res.status === lib.LockStatus.SUCCESS && Number.isSafeInteger(res.result);
  } finally {
    await locker.terminate();
  }
}

/** Polls acquireAndRun until it succeeds; returns the ms it took, or undefined after `boundMs`. */
export async function acquireWithin(lib, locker, key, boundMs) {
  const start = performance.now();
  while (performance.now() - start < boundMs) {
    const res = await locker.acquireAndRun(key, async () => true);
    if (res.status === lib.LockStatus.SUCCESS) return Math.round(performance.now() - start);
    await new Promise((r) => setTimeout(r, 25));
  }
  return undefined;
}
