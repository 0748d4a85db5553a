// `bun test` with jest.useFakeTimers() while a job runs. Bun fakes time inside the runtime: every reference to
// setTimeout, performance.now() and process.hrtime stands still, even one taken before (the fix for jest and
// vitest, which replace the globals). The job's liveness thread runs on real time, so pulselock sees its writes
// get ahead of this thread's clock and loses the lock itself: the job's heartbeat throws a LockError that says so,
// long before the lock could expire and another Locker take it (lockTtlMs 20 s here). Run by test/matrix/run.mjs.
const { test, expect, jest } = await import("bun:test");
const { Redis } = await import("ioredis");
const { Locker, LockStatus, isLockError } = await import("pulselock");
const { jobUnderFakeTimers } = await import("./fake-timers-job.cjs");

test("a job under Bun's fake timers stops with a LockError before anyone else can take its lock", async () => {
  const client = new Redis(process.env.REDIS_URL);
  const timing = { lockTtlMs: 20_000, lockExtendMs: 5000, reportWriteMs: 500, reportTtlMs: 3000 };
  const owner = new Locker({ database: client, ...timing });
  const other = new Locker({ database: client, ...timing });
  const key = `bun-fake-timers-${crypto.randomUUID()}`;
  try {
    // At most 10 s of real time (Bun.sleepSync is real); the heartbeat must throw well before.
    const sleep = async (ms) => Bun.sleepSync(ms);
    const { outcome, beats, takenByOther } = await jobUnderFakeTimers({
      owner,
      other,
      key,
      fake: () => jest.useFakeTimers(),
      sleep,
      rounds: 100,
      SUCCESS: LockStatus.SUCCESS,
    });
    expect(isLockError(outcome) && outcome.message).toMatch(/clock stands still/);
    expect(takenByOther).toBe(0);
    expect(beats).toBeGreaterThan(0);
  } finally {
    jest.useRealTimers();
    await owner.terminate();
    await other.terminate();
    client.disconnect();
  }
}, 30_000);
