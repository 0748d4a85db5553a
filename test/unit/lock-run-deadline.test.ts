import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { isLockError } from "../../src/errors";
import type { LockData } from "../../src/lock-data";
import { LockRun } from "../../src/lock-run";
import type { Liveness } from "../../src/liveness";
import type { ResolvedOptions } from "../../src/options";
import { useGlobalTimers } from "../../src/timers";

// pulselock takes the real timers when it loads (fake timers in an app's tests must not stop it); these tests of pure
// logic drive it with vitest's fakes instead.
useGlobalTimers();

/*
 * LockRun's self-fencing deadline against a heartbeat's check, with the clock in the test's hands and fake timers
 * (so the deadline timer fires only when the test says). Found by the chaos run on an edge participant: a recheck
 * went out, its thread was blocked past the deadline, and its reply was handled before the overdue deadline timer
 * ran; the heartbeat resolved although others could hold the lock by then.
 */
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const OURS: LockData = {
  ownerHash: "k@0123456789abcdef0123456789abcdef.1",
  processHash: "0123456789abcdef0123456789abcdef",
  acquiredAt: new Date(0).toISOString(),
  extendedAt: new Date(0).toISOString(),
  fencingToken: 2,
};
const OPTIONS = { lockTtlMs: 60_000, reportTtlMs: 1000, lockExtendMs: 30_000, lockRecheckMs: 100 } as ResolvedOptions;

function setUp() {
  const clock = { now: 0, lastWrite: 0 };
  const liveness = { now: () => clock.now, lastWriteSentAt: () => clock.lastWrite } as unknown as Liveness;
  let answer!: (holder: LockData | null) => void;
  const ops = {
    extend: () => Promise.reject(new Error("not due")),
    holder: () => new Promise<LockData | null>((resolve) => (answer = resolve)),
  };
  const lost: unknown[] = [];
  const run = new LockRun({
    key: "k",
    ops,
    lockData: OURS,
    identity: { processHash: OURS.processHash, generation: 1 },
    seq: "1",
    sentAt: 0,
    options: OPTIONS,
    liveness,
    onLost: (error) => lost.push(error),
    onError: () => {},
  });
  return { clock, run, lost, answer: (holder: LockData | null) => answer(holder) };
}

it("a recheck answered after the deadline passed fails the heartbeat, even before the deadline timer runs", async () => {
  const { clock, run, lost, answer } = setUp();
  clock.now = 150; // a recheck is due
  const heartbeat = run.heartbeat();
  clock.now = 5000; // the thread was blocked past the deadline (last liveness write at 0, reportTtlMs 1000)
  answer(OURS); // the reply, read first, still says "ours"
  const outcome = await heartbeat.then(
    () => "resolved",
    (error: unknown) => error,
  );
  expect(isLockError(outcome)).toBe(true);
  expect(run.signal.aborted).toBe(true);
  expect(lost).toEqual([outcome]);
});

it("a recheck answered before the deadline lets the heartbeat resolve", async () => {
  const { clock, run, lost, answer } = setUp();
  clock.now = 150;
  const heartbeat = run.heartbeat();
  clock.now = 300;
  answer(OURS);
  await expect(heartbeat).resolves.toBeUndefined();
  expect(run.signal.aborted).toBe(false);
  expect(lost).toEqual([]);
  run.finish();
});

it("a liveness write sent more than a second ahead of this thread's clock means the clock stands still: the lock counts as lost", async () => {
  const { clock, run, lost } = setUp();
  // This thread's clock stays at 0 (fake timers that no reference escapes, as in Bun's test runner) while the
  // liveness thread, on real time, writes at 500, 1000, 1500: nothing measured on this clock can be trusted.
  clock.lastWrite = 1000;
  await expect(run.heartbeat()).resolves.toBeUndefined(); // a second ahead is still within the slack
  clock.lastWrite = 1500;
  const outcome = await run.heartbeat().then(
    () => "resolved",
    (error: unknown) => error,
  );
  expect(isLockError(outcome) && outcome.message).toMatch(/clock stands still/);
  expect(run.signal.aborted).toBe(true);
  expect(lost).toEqual([outcome]);
});
