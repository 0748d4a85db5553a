import { describe, expect, it } from "vitest";
import { LockStatus, RedisDatabase, type Transport } from "pulselock";
import { useHarness } from "../conformance/harness";
import { ioredisContext } from "../support/ioredis-context";
import { uniqueKey } from "../support/wait-for";

const h = useHarness(ioredisContext);

/** A Locker whose transport counts script calls (EVALSHA), with liveness up: only lock calls are counted. */
async function countingLocker() {
  const plain = h.ctx.database();
  const transport = { ...plain.transport, calls: 0 };
  transport.evalsha = (sha, keys, args) => (transport.calls++, plain.transport.evalsha(sha, keys, args));
  const locker = h.locker({ db: new RedisDatabase(transport as Transport, { prefix: plain.prefix }) });
  await locker.acquireAndRun(uniqueKey("warm"), () => {});
  return { locker, transport };
}

/**
 * Starts `call` after queueing a task (setImmediate and setTimeout 0) and resolves, once it is done, with the
 * script calls that had left when each of those tasks ran.
 */
async function sentBeforeNextTask(transport: { calls: number }, call: () => Promise<unknown>): Promise<number[]> {
  const before = transport.calls;
  const sentBy = (schedule: (fn: () => void) => void) => new Promise<number>((r) => schedule(() => r(transport.calls - before)));
  const atImmediate = sentBy(setImmediate);
  const atTimer = sentBy((fn) => setTimeout(fn, 0));
  const done = call();
  const seen = [await atImmediate, await atTimer];
  await done;
  return seen;
}

describe("a lone caller does not wait for a later turn of the event loop", () => {
  it("a lone acquire, its release and a lone acquireAndRun are sent before the event loop's next task", async () => {
    const { locker, transport } = await countingLocker();
    const key = uniqueKey("lone");
    let lock: Awaited<ReturnType<typeof locker.acquire>> | undefined;
    expect(await sentBeforeNextTask(transport, async () => (lock = await locker.acquire(key)))).toEqual([1, 1]);
    expect(lock!.status).toBe(LockStatus.SUCCESS);
    expect(await sentBeforeNextTask(transport, () => locker.release(key, lock!.lockData))).toEqual([1, 1]);
    // The acquire has left by then; the release follows the job, in this task or the next.
    const [atImmediate] = await sentBeforeNextTask(transport, () => locker.acquireAndRun(key, () => {}));
    expect(atImmediate).toBeGreaterThanOrEqual(1);
    expect(await h.ctx.admin("EXISTS", `${h.ctx.prefix}pl:{${key}}`)).toBe(0);
  });

  it("64 loops of acquire and release still share script calls: per round two acquire calls and two release calls of 32 (the Batcher's split)", async () => {
    const { locker, transport } = await countingLocker();
    const rounds = 20;
    const keys = Array.from({ length: 64 }, (_, i) => uniqueKey(`loop-${i}`));
    transport.calls = 0;
    await Promise.all(
      keys.map(async (key) => {
        for (let i = 0; i < rounds; i++) {
          const res = await locker.acquire(key);
          if (res.status !== LockStatus.SUCCESS) throw new Error(`not acquired: ${key}`);
          await locker.release(key, res.lockData);
        }
      }),
    );
    expect(transport.calls).toBeLessThanOrEqual(4 * rounds);
  });
});
