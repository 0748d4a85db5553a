// One Node participant of the chaos run: competes for the keys with
// acquireAndRun() and reports every run to the orchestrator over IPC (the
// fenced store lives there). It also obeys "block" (busy-loop its main thread),
// "try" (make that key its next attempt), and "stop" (finish the current run,
// then wait idle for "exit").
// Some of its jobs act on their own timer, and now and then it misuses
// release() (chaos/job.mjs, chaos/misuse.mjs; see docs/chaos.md for the odds).
import { isLockError, Locker, LockStatus } from "pulselock";
import { createRandom } from "./prng.mjs";
import { chaosJob } from "./job.mjs";
import { misuseRelease } from "./misuse.mjs";
import { multiKeyJob } from "./multi-job.mjs";
import { MISUSE_ODDS, MULTI_KEY_ODDS, TIMER_JOB_ODDS } from "./odds.mjs";

const name = process.env.CHAOS_WORKER;
const keys = JSON.parse(process.env.CHAOS_KEYS);
const timings = JSON.parse(process.env.CHAOS_TIMINGS);
/** Semaphore keys some attempts take a permit of instead of a lock ({ keys, limit, odds }; chaos/run.mjs). */
const semaphores = JSON.parse(process.env.CHAOS_SEMAPHORES ?? "null");
const random = createRandom(process.env.CHAOS_SEED);

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const report = (event) => {
  if (process.connected) process.send({ worker: name, ...event });
};

process.on("unhandledRejection", (error) => report({ type: "unhandled", t: now(), error: String(error?.stack ?? error) }));

const locker = new Locker({ database: { moduleName: new URL("./db.mjs", import.meta.url).href, exportName: "db" }, ...timings });
let backgroundErrors = 0;
locker.errors.subscribe(() => backgroundErrors++);

let stopping = false;
/** The key the orchestrator asked this worker to try next (a sigstop-takeover fault), if any. */
let nextKey;
let exitNow;
const exitSignal = new Promise((resolve) => (exitNow = resolve));
process.on("message", (message) => {
  if (message?.type === "block") {
    const until = Date.now() + message.ms;
    while (Date.now() < until) {
      // Busy: the event loop is blocked, as a long synchronous step would block it.
    }
  } else if (message?.type === "try") nextKey = message.key;
  else if (message?.type === "stop") stopping = true;
  else if (message?.type === "exit") exitNow();
});
process.on("disconnect", () => {
  stopping = true;
  exitNow();
});

let runs = 0;
const stats = { refused: 0, acquireErrors: 0 };
const misuse = (fields) => misuseRelease({ locker, now, report, ...fields });
async function attempt() {
  if (nextKey === undefined && random.chance(MULTI_KEY_ODDS)) return attemptSet();
  const key = nextKey ?? (semaphores && random.chance(semaphores.odds) ? random.pick(semaphores.keys) : random.pick(keys));
  nextKey = undefined;
  const limit = semaphores?.keys.includes(key) ? semaphores.limit : undefined;
  const run = `${name}/${runs++}`;
  const style = random.chance(TIMER_JOB_ODDS) ? "timer" : "heartbeat";
  const releaseOwn = style === "heartbeat" && random.chance(MISUSE_ODDS.ownRun);
  const job = chaosJob({
    run,
    key,
    workMs: random.int(200, 2000),
    stepMs: 100,
    now,
    report,
    sleep,
    style,
    misuse: releaseOwn ? (lockData) => misuse({ key, lockData, source: "own-run", run }) : undefined,
    limit,
  });
  try {
    const res = limit
      ? await locker.semaphore(key, { limit }).acquireAndRun(job.fn, { trace: name })
      : await locker.acquireAndRun(key, job.fn, { trace: name });
    if (res.status === LockStatus.SOMEONE_ELSE_HOLDS_LOCK) {
      stats.refused++;
      // A refused permit names every holder: misuse (locker.release()) with one of them, as with a lock's holder.
      const holder = res.lockData ?? res.holders[0];
      if (random.chance(MISUSE_ODDS.refusal)) await misuse({ key, lockData: holder, source: "refusal" });
    } else job.settle("released");
  } catch (error) {
    if (!job.state.started) stats.acquireErrors++;
    else if (isLockError(error)) job.settle("lost", String(error.message));
    else job.settle("error", String(error?.message ?? error));
  }
  if (random.chance(MISUSE_ODDS.readLockData)) await misuseHolderOf(random.pick(keys));
}

/** A set of 2–3 distinct keys under acquireAllAndRun(): all or nothing, and losing any key loses the set. */
async function attemptSet() {
  const set = [];
  for (const size = random.int(2, 3); set.length < size;) {
    const key = random.pick(keys);
    if (!set.includes(key)) set.push(key);
  }
  const job = multiKeyJob({ run: `${name}/${runs++}`, keys: set, workMs: random.int(200, 2000), stepMs: 100, now, report, sleep });
  try {
    const res = await locker.acquireAllAndRun(set, job.fn, { trace: name });
    if (res.status === LockStatus.SOMEONE_ELSE_HOLDS_LOCK) stats.refused++;
    else job.settle("released");
  } catch (error) {
    if (!job.state.started) stats.acquireErrors++;
    else if (isLockError(error)) job.settle("lost", String(error.message));
    else job.settle("error", String(error?.message ?? error));
  }
}

/** Asks who holds a key and releases it with that answer. */
async function misuseHolderOf(key) {
  let holder;
  try {
    holder = await locker.readLockData(key);
  } catch {
    return; // Redis is under a fault: nothing to misuse this time
  }
  if (holder !== "maybe_unlocked") await misuse({ key, lockData: holder, source: "read-lock-data" });
}

while (!stopping) {
  await attempt();
  await sleep(random.int(10, 80));
}
report({ type: "idle", t: now(), ...stats, backgroundErrors });
await exitSignal;
await locker.terminate();
process.exit(0);
