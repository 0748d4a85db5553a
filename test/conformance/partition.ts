import { LockStatus, type Locker } from "pulselock";

/** Polls acquire() every `intervalMs` until it succeeds; returns when (performance.now()) and the lock. */
export async function acquireWhenFree(locker: Locker, key: string, intervalMs = 50, timeoutMs = 30_000) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const res = await locker.acquire(key);
    if (res.status === LockStatus.SUCCESS) return { at: performance.now(), lockData: res.lockData };
    if (performance.now() > end) throw new Error(`still held after ${timeoutMs} ms by ${res.lockData.ownerHash}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The partition race of G4: `owner` holds `key` in a job that never
 * heartbeats, its network is blackholed, and `contender` polls until it gets
 * the key. Returns when the owner's signal aborted, when the contender got
 * the key, when the cut happened, and how the owner's run ended.
 */
export async function partitionRace(
  owner: Locker,
  contender: Locker,
  proxy: { blackhole(): void; pass(o?: { drop?: boolean }): void; dropConnections(): void },
  key: string,
) {
  let abortedAt = Infinity;
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const run = owner
    .acquireAndRun(key, async (heartbeat) => {
      heartbeat.signal.addEventListener("abort", () => (abortedAt = performance.now()));
      markStarted();
      await new Promise((resolve) => heartbeat.signal.addEventListener("abort", resolve));
    })
    .then(
      () => "resolved",
      (error: unknown) => error,
    ); // it may settle while the contender still polls
  await started;
  proxy.blackhole();
  const cutAt = performance.now();
  const { at: takenAt } = await acquireWhenFree(contender, key, 10);
  const outcome = await run;
  proxy.pass({ drop: true });
  proxy.dropConnections();
  return { abortedAt, takenAt, cutAt, outcome };
}
